import Foundation
import Synchronization

/// Failed authentications counted per client address: after `limit` failures within `window`, that address is
/// refused (429) until the window that began with its first failure has passed — whatever token it sends.
public final class FailedSignInLimiter: Sendable {
    public let limit: Int
    public let window: TimeInterval
    private struct Count { var since: Date; var failures: Int }
    private let counts = Mutex<[String: Count]>([:])
    /// How many addresses have failures counted (read without the lock on every request).
    private let counted = Atomic<Int>(0)

    /// Whether any address has failures counted: when none has, a request needs no look-up.
    public var isCounting: Bool { counted.load(ordering: .relaxed) > 0 }
    /// Addresses remembered at most (the oldest windows are dropped first when more fail at once).
    static let maxAddresses = 10_000

    public init(limit: Int = 10, window: TimeInterval = 60) {
        self.limit = limit
        self.window = window
    }

    /// When the address may try again, if it is refused now.
    public func refusedUntil(_ address: String, now: Date) -> Date? {
        counts.withLock { c in
            guard let entry = c[address] else { return nil }
            let until = entry.since.addingTimeInterval(window)
            if now >= until {
                c[address] = nil
                counted.store(c.count, ordering: .relaxed)
                return nil
            }
            return entry.failures >= limit ? until : nil
        }
    }

    public func failed(_ address: String, now: Date) {
        counts.withLock { c in
            if let e = c[address], now < e.since.addingTimeInterval(window) {
                c[address]!.failures = e.failures + 1
            } else {
                if c.count >= Self.maxAddresses {
                    c = c.filter { now < $0.value.since.addingTimeInterval(window) }
                    if c.count >= Self.maxAddresses, let oldest = c.min(by: { $0.value.since < $1.value.since })?.key { c[oldest] = nil }
                }
                c[address] = Count(since: now, failures: 1)
            }
            counted.store(c.count, ordering: .relaxed)
        }
    }
}
