import Foundation

/// Token buckets shared by every plugin call that names the same key: a burst of one, refilled at `rate`
/// per second. Waiting is a suspension, not a blocked thread.
actor RateLimiter {
    private var nextFree: [String: ContinuousClock.Instant] = [:]

    func acquire(key: String, ratePerSecond: Double) async throws {
        guard ratePerSecond > 0 else { return }
        let interval = Duration.seconds(1.0 / ratePerSecond)
        let now = ContinuousClock.now
        let slot = max(now, nextFree[key] ?? now)
        nextFree[key] = slot + interval
        if slot > now { try await Task.sleep(until: slot, clock: .continuous) }
    }
}
