import Foundation
import PluginAPI
import Synchronization
import Testing

@testable import Host
@testable import TestKit

/// Threads that keep every core busy until stopped: a saturated machine, as on a loaded CI host. They are
/// ordinary threads, so they compete for the CPU without occupying Swift's cooperative pool — what must stay
/// on time is the host's own timers, which only the host blocking that pool could delay.
final class CPUBurners: Sendable {
    private let running = Atomic<Bool>(true)

    init(threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        for _ in 0..<threads {
            Thread.detachNewThread {
                var x: UInt64 = 1
                while self.running.load(ordering: .relaxed) {
                    for _ in 0..<10_000 { x = x &* 6364136223846793005 &+ 1442695040888963407 }
                }
                if x == 0 { print("unreachable") }
            }
        }
    }

    func stop() { running.store(false, ordering: .relaxed) }
}

@Suite("Time is honoured while both cores are busy", .serialized)
struct TimeUnderLoadTests {
    /// The test watches from a thread of its own: what it measures is the host's timing, not how long the test's
    /// own task waits for the concurrency pool that the rest of the suite keeps busy.
    @Test func aTimeoutALeaseRenewalAndASchedulerWakeUpComeWithinASecondOfDue() async throws {
        try await withTaskExecutorPreference(ThreadExecutor(label: "test.watcher")) { try await watch() }
    }

    func watch() async throws {
        let burners = CPUBurners()
        defer { burners.stop() }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try await compileCPlugin(into: dir, fileName: "tiny.so")
        let store = try await Backend.sqlite.open()
        let kernel = Kernel(pluginDirectory: dir, logger: capturingLogger(CapturedLog()), store: store,
                            schedulerLease: .milliseconds(1500), schedulerMaxIdle: .seconds(30))
        try await kernel.registry.scan()
        try await kernel.instances!.create(id: "load", plugin: "tiny_c", config: [:])
        let scheduler = try #require(kernel.scheduler)
        try await scheduler.start()
        // More host work on the pool and the store while the clocks are watched: writes every few ms.
        let writer = Task {
            var n = 0
            while !Task.isCancelled {
                n += 1
                _ = try? await store.upsert(page("noise", [("k\(n % 50)", .int(Int64(n)))]), instance: "load", runID: nil, now: Date())
            }
        }
        defer { writer.cancel() }

        // 1. A plugin call that never answers ends at its 300 ms timeout.
        let plugin = try #require(kernel.registry.plugin(named: "tiny_c"))
        let started = ContinuousClock.now
        await #expect(throws: PluginError.self) {
            try await plugin.invoke("hang", request: [], context: SessionContext(plugin: "tiny_c"), timeout: .milliseconds(300))
        }
        let timedOutAfter = ContinuousClock.now - started
        #expect(timedOutAfter < .milliseconds(1300), "a 300 ms timeout fired after \(timedOutAfter)")

        // 2. A run queued for 700 ms from now is started by the scheduler's own wake-up within a second of that.
        let due = Date().addingTimeInterval(0.7)
        var run = RunRecord(instance: "load", job: "slow", trigger: "manual", params: ["ms": 3000])
        run.runAt = due
        run.timeoutSeconds = 60
        try await store.insertRun(run)
        scheduler.wake()  // as the API does after queuing: the scheduler now sleeps until `due`
        var running: RunRecord?
        while running == nil, Date() < due.addingTimeInterval(5) {
            if let r = try await store.run(id: run.id), r.status != .queued { running = r; break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let startedAt = try #require(running?.startedAt, "the run never started")
        #expect(startedAt.timeIntervalSince(due) < 1.0, "due \(due), started \(startedAt)")

        // 3. While it runs (3 s), its 1.5 s lease is renewed every 0.5 s: it never lapses, so no renewal came
        //    more than a second late.
        var samples = 0
        while let r = try await store.run(id: run.id), r.status == .running {
            let expires = try #require(r.leaseExpiresAt)
            #expect(expires > Date(), "the lease lapsed at \(expires) while the run was still running")
            samples += 1
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(samples >= 10, "watched the lease \(samples) times")
        #expect(try await store.run(id: run.id)?.status == .succeeded)
        await scheduler.stop()
    }
}
