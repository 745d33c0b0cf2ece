import Dispatch

/// A timer that fires once on a Dispatch thread. Unlike a sleeping Task it needs no thread of the concurrency
/// pool to fire, so a busy pool cannot make a timeout, a wake-up or a lease renewal late.
struct OneShotTimer: @unchecked Sendable {  // DispatchSource is thread-safe, though not marked Sendable
    private let source: any DispatchSourceTimer
    /// A serial queue of its own: Dispatch always gives it a thread, unlike the width-limited global queues.
    private static let queue = DispatchQueue(label: "synchost.timers", qos: .userInitiated)

    init(after delay: Duration, _ handler: @escaping @Sendable () -> Void) {
        source = DispatchSource.makeTimerSource(queue: Self.queue)
        let (seconds, attoseconds) = delay.components
        let nanoseconds = max(0, seconds) * 1_000_000_000 + max(0, attoseconds) / 1_000_000_000
        source.schedule(deadline: .now() + .nanoseconds(Int(min(nanoseconds, Int64(Int.max)))))
        source.setEventHandler(handler: handler)
        source.resume()
    }

    func cancel() { source.cancel() }
}
