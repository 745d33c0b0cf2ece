import Synchronization

/// A sleep that a wake cuts short, shared by the scheduler and the outbox dispatcher. A wake that comes while
/// nobody sleeps is kept for the next sleep, so none is lost; the waiter is installed under the lock.
final class Wakeup: Sendable {
    private let state = Mutex<(waiter: CheckedContinuation<Void, Never>?, pending: Bool)>((nil, false))

    init() {}

    func wake() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let w = s.waiter else {
                s.pending = true
                return nil
            }
            s.waiter = nil
            return w
        }
        waiter?.resume()
    }

    /// Sleeps for `duration` or until woken, whichever is first.
    func sleep(_ duration: Duration) async {
        let wasWoken = state.withLock { s in
            defer { s.pending = false }
            return s.pending
        }
        guard duration > .zero, !wasWoken else { return }
        // A Dispatch timer: the wake-up comes on time even when the concurrency pool is busy.
        let timer = OneShotTimer(after: duration) { [weak self] in self?.wake() }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.pending { s.pending = false; return true }
                s.waiter = c
                return false
            }
            if now { c.resume() }
        }
        timer.cancel()
        state.withLock { $0.pending = false }
    }
}
