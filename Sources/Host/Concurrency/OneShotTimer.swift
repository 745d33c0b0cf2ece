import Dispatch

/// A timer that fires once on a Dispatch thread. Unlike a sleeping Task it needs no thread of the concurrency
/// pool to fire, so a busy pool cannot make a timeout, a wake-up or a lease renewal late.
struct OneShotTimer: @unchecked Sendable {  // DispatchSource is thread-safe, though not marked Sendable
    private let source: any DispatchSourceTimer

    init(after delay: Duration, _ handler: @escaping @Sendable () -> Void) {
        source = DispatchSource.makeTimerSource(queue: .global(qos: .userInitiated))
        let (seconds, attoseconds) = delay.components
        let nanoseconds = max(0, seconds) * 1_000_000_000 + max(0, attoseconds) / 1_000_000_000
        source.schedule(deadline: .now() + .nanoseconds(Int(min(nanoseconds, Int64(Int.max)))))
        source.setEventHandler(handler: handler)
        source.resume()
    }

    func cancel() { source.cancel() }
}
