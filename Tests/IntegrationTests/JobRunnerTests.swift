import Foundation
import Logging
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// Jobs run through the real loader and a real store: full-sync deletions only for complete runs, the
/// store reached through the C ABI, cache policies for single-record reads.
@Suite("Runs and reads through plugins and the store")
struct JobRunnerTests {
    struct Fixture {
        var kernel: Kernel
        var store: any HostDatabase
        var runner: JobRunner
        var instance: InstanceInfo
        var plugin: PluginHandle
        var log: CapturedLog
    }

    static func fixture(_ backend: Backend) async throws -> Fixture {
        let dir = try temporaryDirectory()
        _ = try await compileCPlugin(into: dir, fileName: "tiny.so")
        let store = try await backend.open()
        let log = CapturedLog()
        let kernel = Kernel(pluginDirectory: dir, logger: capturingLogger(log), store: store)
        try await kernel.registry.scan()
        let plugin = try #require(kernel.registry.plugin(named: "tiny_c"))
        return Fixture(kernel: kernel, store: store, runner: JobRunner(registry: kernel.registry, store: store, logger: kernel.logger),
                       instance: InstanceInfo(id: freshInstance(), plugin: "tiny_c", config: ["greeting": "hi", "password": "hunter2-secret"]),
                       plugin: plugin, log: log)
    }

    @Test func aJobThatHangsFailsAtItsTimeoutAndThePluginKeepsWorking() async throws {
        let f = try await Self.fixture(.sqlite)
        let hung = RunRecord(instance: f.instance.id, job: "slow", trigger: "manual", params: ["ms": 60_000])
        try await f.store.insertRun(hung)
        let started = ContinuousClock.now
        let run = try await f.runner.execute(hung, instance: f.instance, timeout: .milliseconds(400))
        // Ended by the timeout, not by the job (60 s); generous for a loaded CI machine.
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(run.status == .failed && run.error?.contains("timed out") == true, "\(run.status) \(run.error ?? "")")
        // The same plugin (and the host) carry on.
        let next = RunRecord(instance: f.instance.id, job: "greet", trigger: "manual")
        try await f.store.insertRun(next)
        #expect(try await f.runner.execute(next, instance: f.instance).status == .succeeded)
    }

    @Test(arguments: Backend.available)
    func anIncompleteRunNeverDeletesAndACompleteOneDoes(_ backend: Backend) async throws {
        let f = try await Self.fixture(backend)
        let first = try await f.runner.execute(RunRecord(instance: f.instance.id, job: "sync", trigger: "manual", params: ["with_c": true]), instance: f.instance)
        #expect(first.status == .succeeded, "\(first.error ?? "")")
        #expect(first.counts.inserted == 3)
        #expect(first.startedAt != nil && first.finishedAt != nil)

        let incomplete = try await f.runner.execute(RunRecord(instance: f.instance.id, job: "sync", trigger: "manual", params: ["incomplete": true]), instance: f.instance)
        #expect(incomplete.status == .incomplete)
        #expect(incomplete.counts.deleted == 0)
        #expect(try await f.store.record(instance: f.instance.id, collection: "greetings", key: "c")?.deletedAt == nil)

        let dry = try await f.runner.execute(RunRecord(instance: f.instance.id, job: "sync", trigger: "manual", dryRun: true), instance: f.instance)
        #expect(dry.counts.deleted == 0)
        #expect(try await f.store.record(instance: f.instance.id, collection: "greetings", key: "c")?.deletedAt == nil)

        let complete = try await f.runner.execute(RunRecord(instance: f.instance.id, job: "sync", trigger: "schedule"), instance: f.instance)
        #expect(complete.status == .succeeded)
        #expect(complete.counts.unchanged == 2)
        #expect(complete.counts.deleted == 1)
        #expect(try await f.store.record(instance: f.instance.id, collection: "greetings", key: "c")?.deletedAt != nil)
        #expect(try await f.store.run(id: complete.id)?.counts.deleted == 1)
    }

    @Test(arguments: Backend.available)
    func cachePoliciesServeCacheLiveIfMissingAndStale(_ backend: Backend) async throws {
        let f = try await Self.fixture(backend)
        let reader = RecordReader(store: f.store)
        let cached = try await reader.read(instance: f.instance, plugin: f.plugin, collection: "greetings", key: "live1", policy: .cache)
        #expect(cached.record == nil)
        #expect(cached.source == "cache")

        let missing = try await reader.read(instance: f.instance, plugin: f.plugin, collection: "greetings", key: "live1", policy: .ifMissing)
        #expect(missing.source == "live")
        #expect(missing.record?.json == ["id": "live1", "fresh": true])
        #expect(missing.lastSyncedAt != nil)

        let again = try await reader.read(instance: f.instance, plugin: f.plugin, collection: "greetings", key: "live1", policy: .ifMissing)
        #expect(again.source == "cache")
        #expect(again.record?.json == ["id": "live1", "fresh": true])

        let stale = try await reader.read(instance: f.instance, plugin: f.plugin, collection: "greetings", key: "fail", policy: .staleOK)
        #expect(stale.stale)
        #expect(stale.source == "cache")
        #expect(stale.upstreamError == "upstream is down")

        await #expect(throws: PluginError.self) {
            try await reader.read(instance: f.instance, plugin: f.plugin, collection: "greetings", key: "fail", policy: .live)
        }
        await #expect(throws: HostError.self) {
            try await reader.read(instance: f.instance, plugin: f.plugin, collection: "greetings", key: "missing", policy: .live)
        }
        await #expect(throws: HostError.self) {
            try await reader.read(instance: f.instance, plugin: f.plugin, collection: "nope", key: "x", policy: .cache)
        }
        let list = try await reader.list(instance: f.instance, plugin: f.plugin, collection: "greetings", query: RecordQuery())
        #expect(list.source == "cache")
        #expect(list.lastSyncedAt != nil)
        #expect(list.page.records.map(\.key) == ["live1"])
    }

    @Test func aPluginCannotWriteACollectionItDidNotDeclareNorOutsideAnInstance() async throws {
        let f = try await Self.fixture(.sqlite)
        let service = StoreHostService(store: f.store) { _ in ["greetings"] }
        let payload = try StoreService.upsertPayload(.init(collection: "other"), [(key: "k", json: Array("{}".utf8))])
        await #expect(throws: PluginError.self) {
            try await service.handle(op: "upsert", request: payload, session: SessionContext(plugin: "tiny_c", instance: f.instance))
        }
        await #expect(throws: PluginError.self) {
            try await service.handle(op: "upsert", request: payload, session: SessionContext(plugin: "tiny_c"))
        }
    }
}
