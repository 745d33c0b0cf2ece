import Foundation
import Synchronization

/// Waiting for a run to end without polling it: the job runner of this process says when each run it executed
/// is recorded, and a waiter wakes then. A run another replica executes (or one cancelled before it started)
/// is seen by looking at the store again now and then.
public final class RunCompletions: Sendable {
    /// How often a waiter looks at the store when nothing was said in this process.
    static let recheck = Duration.seconds(1)

    /// One waiter's wake-up: said once, by the runner or by the waiter's own timer.
    final class Signal: Sendable {
        private let state = Mutex<(said: Bool, waiting: CheckedContinuation<Void, Never>?)>((false, nil))

        func say() {
            let waiting = state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.said = true
                defer { s.waiting = nil }
                return s.waiting
            }
            waiting?.resume()
        }

        /// Returns when said, or after `limit` (a timer off the concurrency pool says it then).
        func wait(limit: Duration) async {
            let timer = OneShotTimer(after: limit) { self.say() }
            defer { timer.cancel() }
            await withCheckedContinuation { c in
                let now = state.withLock { s -> Bool in
                    if s.said { return true }
                    s.waiting = c
                    return false
                }
                if now { c.resume() }
            }
        }
    }

    private let waiters = Mutex<[String: [Signal]]>([:])

    public init() {}

    /// The run's outcome is in the store.
    func finished(_ id: String) {
        for signal in waiters.withLock({ $0.removeValue(forKey: id) }) ?? [] { signal.say() }
    }

    /// The run once it has ended, or as it is when `timeout` passed (still queued or running).
    public func wait(for id: String, in store: any RunStore, timeout: Duration) async throws -> RunRecord {
        let deadline = ContinuousClock.now + timeout
        while true {
            // Listening before looking: an end between the look and the wait is not missed.
            let signal = Signal()
            waiters.withLock { $0[id, default: []].append(signal) }
            defer { waiters.withLock { w in w[id]?.removeAll { $0 === signal }; if w[id]?.isEmpty == true { w[id] = nil } } }
            guard let run = try await store.run(id: id) else { throw HostError.notFound("no run \(id.debugDescription)") }
            let left = deadline - ContinuousClock.now
            if run.status.isFinal || left <= .zero { return run }
            await signal.wait(limit: min(left, Self.recheck))
        }
    }
}
