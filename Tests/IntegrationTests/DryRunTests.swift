import Foundation
import GuankeSimulator
import PluginAPI
import ProjectServiceSimulator
import Testing
import VOSSimulator
import WeComSimulator

@testable import Host
@testable import TestKit

/// "A dry run changes nothing, anywhere": every job of every in-tree connector, dry-run against its simulator
/// after a real sync and an upstream change, leaves the database identical but for the dry runs' own rows —
/// and says on the run what it would have sent, queued and saved.
@Suite("Dry runs change nothing")
struct DryRunTests {
    /// Every row of every table of the SQLite file, as text, sorted per table.
    static func dump(_ path: String) throws -> [String: [String]] {
        let c = try SQLiteConnection(path: path, readOnly: true)
        var out: [String: [String]] = [:]
        for t in try c.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name", []) {
            let table = t.text(0) ?? ""
            let columns = try c.query("PRAGMA table_info(\(table))", []).compactMap { $0.text(1) }
            let row = columns.map { "quote(\($0))" }.joined(separator: " || ',' || ")
            out[table] = try c.query("SELECT \(row) FROM \(table)", []).map { $0.text(0) ?? "" }.sorted()
        }
        return out
    }

    @Test func everyJobOfEveryConnectorDryRunLeavesTheDatabaseAsItWas() async throws {
        var vosData = VOSSimulator.Data()
        vosData.customers = 4
        vosData.cdrsPerDay = 40
        let vos = VOSSimulator(vosData)
        let guanke = GuankeSimulator()
        var wecomData = WeComSimulator.Data()
        wecomData.contacts = 30
        let wecom = WeComSimulator(wecomData)
        let projects = ProjectServiceSimulator(projects: 12)
        _ = try await vos.start()
        _ = try await guanke.start()
        _ = try await wecom.start()
        _ = try await projects.start()
        defer { vos.stop(); guanke.stop(); wecom.stop(); projects.stop() }
        wecom.addRobot(key: "pm")

        let host = try await TestHost(startOutbox: false, startScheduler: false)
        for (id, plugin, config) in [
            ("robot", "notify", #"{"channel": "wecom_robot", "webhook_key": "pm", "base_url": "\#(wecom.server.baseURL)"}"#),
            ("node", "vos", #"{"base_url": "\#(vos.server.baseURL)", "cdr_pacing_ms": 0, "backfill_days": 0, "timeout_ms": 5000}"#),
            ("gk", "guanke", #"{"base_url": "\#(guanke.server.baseURL)", "secret": "\#(guanke.data.secret)"}"#),
            ("corp", "wecom", WeComPluginTests.config(wecom)),
            ("ps", "projectsync", #"{"base_url": "\#(projects.server.baseURL)", "api_token": "\#(projects.apiToken)", "notify_channels": ["robot"]}"#),
        ] {
            let r = try await host.api("POST", "/instances", #"{"id": "\#(id)", "plugin": "\#(plugin)", "config": \#(config)}"#)
            #expect(r.status == 201, "\(id): \(r.body)")
        }
        let manager = host.kernel.instances!
        func execute(_ instance: String, _ job: String, dryRun: Bool) async throws -> RunRecord {
            let queued = try await manager.enqueue(instance: instance, job: job, params: [:], dryRun: dryRun, trigger: "manual")
            return try await host.kernel.runner!.execute(queued, instance: try await host.store.instance(id: instance)!.info)
        }
        let connectors = ["node": "vos", "gk": "guanke", "corp": "wecom", "ps": "projectsync"]
        // A real sync first (tokens, cursors, ETags and records exist), then the upstream changes.
        for (instance, plugin) in connectors.sorted(by: { $0.key < $1.key }) {
            for job in host.kernel.registry.plugin(named: plugin)!.manifest.jobs {
                let real = try await execute(instance, job.name, dryRun: false)
                #expect(real.status == .succeeded || real.status == .incomplete, "\(instance)/\(job.name): \(real.error ?? "")")
            }
        }
        _ = projects.change("P-1003", status: "completed", stage: "验收")

        let path = host.directory.appendingPathComponent("synchost.db").path
        let before = try Self.dump(path)
        var dryRuns: [RunRecord] = []
        for (instance, plugin) in connectors.sorted(by: { $0.key < $1.key }) {
            for job in host.kernel.registry.plugin(named: plugin)!.manifest.jobs where job.supportsDryRun {
                let dry = try await execute(instance, job.name, dryRun: true)
                #expect(dry.status == .succeeded || dry.status == .incomplete, "\(instance)/\(job.name): \(dry.error ?? "")")
                dryRuns.append(dry)
            }
        }
        #expect(dryRuns.count >= 9)
        var after = try Self.dump(path)
        let ids = Set(dryRuns.map { "'\($0.id)'" })
        after["runs"] = after["runs"]?.filter { row in !ids.contains { row.hasPrefix($0 + ",") } }
        for table in Set(before.keys).union(after.keys).sorted() {
            let added = Set(after[table] ?? []).subtracting(before[table] ?? [])
            let removed = Set(before[table] ?? []).subtracting(after[table] ?? [])
            #expect(added.isEmpty && removed.isEmpty, "\(table): added \(Array(added.prefix(3))), removed \(Array(removed.prefix(3)))")
        }

        // What the dry runs would have done is on them, readable through the API.
        let sync = try #require(dryRuns.first { $0.instance == "ps" && $0.job == "sync" })
        let view = try await host.api("GET", "/runs/\(sync.id)")
        #expect(view.json?["details"]?["would_send"]?.arrayValue?.first?["text"]?.stringValue?.contains("P-1003") == true, "\(view.body)")
        #expect(view.json?["dry_run"] == true && view.json?["counts"]?["updated"] == 1, "\(view.body)")
    }
}
