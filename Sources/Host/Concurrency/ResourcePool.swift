import Synchronization

/// A fixed set of resources (database connections) lent to one task at a time, first come first served.
/// Waiting suspends the task; it never blocks a thread.
final class ResourcePool<Resource: Sendable>: Sendable {
    private struct State {
        var idle: [Resource]
        var waiters: [CheckedContinuation<Resource, Never>] = []
    }
    private let state: Mutex<State>

    init(_ resources: [Resource]) {
        state = Mutex(State(idle: resources))
    }

    /// Tasks waiting for a resource right now.
    var waiting: Int { state.withLock { $0.waiters.count } }

    func acquire() async -> Resource {
        if let r = state.withLock({ $0.idle.popLast() }) { return r }
        return await withCheckedContinuation { c in
            let r: Resource? = state.withLock { s in
                if let r = s.idle.popLast() { return r }
                s.waiters.append(c)
                return nil
            }
            if let r { c.resume(returning: r) }
        }
    }

    func release(_ r: Resource) {
        let waiter = state.withLock { s -> CheckedContinuation<Resource, Never>? in
            if s.waiters.isEmpty { s.idle.append(r); return nil }
            return s.waiters.removeFirst()
        }
        waiter?.resume(returning: r)
    }

    /// Lends a resource for the duration of `body`.
    func with<T>(_ body: (Resource) async throws -> T) async throws -> T {
        let r = await acquire()
        defer { release(r) }
        return try await body(r)
    }
}
