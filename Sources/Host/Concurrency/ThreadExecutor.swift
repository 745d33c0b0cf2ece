import Foundation
import Dispatch

/// An executor on a serial queue of its own, outside Swift's cooperative pool. Code that must block (a
/// synchronous SQLite call) runs here under `withTaskExecutorPreference`, so the pool's threads — one per core
/// — stay free; and the host's time-keeping actors (scheduler, outbox) run here as their serial executor, so
/// plugins keeping the pool busy cannot make a wake-up or a lease renewal late.
public final class ThreadExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    private let queue: DispatchQueue

    public init(label: String) {
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let serial = asUnownedSerialExecutor()
        let task = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(isolatedTo: serial, taskExecutor: task) }
    }
}

/// Runs blocking work on a fresh thread (rare, slow calls: process waits, dlopen, file system scans).
public func offPool<T: Sendable>(_ work: @Sendable @escaping () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
