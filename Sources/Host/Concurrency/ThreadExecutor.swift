import Foundation
import Dispatch

/// A task executor on a serial queue of its own, outside Swift's cooperative pool. Code that must block (a
/// synchronous SQLite call, dlopen) runs here under `withTaskExecutorPreference`, so the pool's threads — one
/// per core — stay free for timers, timeouts and leases.
public final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let queue: DispatchQueue

    public init(label: String) {
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    /// Runs blocking `work` on this executor's thread and returns its result to the caller.
    public func run<T: Sendable>(_ work: @Sendable @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}

/// Runs blocking work on a fresh thread (rare, slow calls: process waits, dlopen, file system scans).
public func offPool<T: Sendable>(_ work: @Sendable @escaping () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
