import ArgumentParser
import Foundation
import PluginAPI

/// `synchost status INSTANCE`: what an operator checks first — the collections (live, deleted, last
/// synced), the schedules with their next fire, and the latest runs.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "An instance's collections, schedules and latest runs.")
    @OptionGroup var store: StoreOptions
    @Argument(help: "Instance id.") var instance: String
    @Option(help: "How many recent runs.") var runs: Int = 10

    func run() async throws {
        guard (1...500).contains(runs) else { throw ValidationError("--runs must be 1-500") }
        let kernel = try await store.kernel()
        let db = kernel.store!
        guard let record = try await db.instance(id: instance) else { throw ValidationError("no instance \(instance.debugDescription)") }
        print("\(record.id) (\(record.plugin))\(record.enabled ? "" : " — disabled")")
        let declared: [String] = kernel.registry.plugin(named: record.plugin)?.manifest.collections.map { $0.name } ?? []
        var summaries: [String: CollectionSummary] = [:]
        for c in try await db.collections(instance: instance) { summaries[c.name] = c }
        let names = declared.isEmpty ? summaries.keys.sorted() : declared
        print("\nCollections")
        print(TextTable.render(header: ["NAME", "LIVE", "DELETED", "LAST SYNCED"], rows: names.map { (n: String) -> [String] in
            let s = summaries[n]
            return [n, "\(s?.records ?? 0)", "\(s?.deleted ?? 0)", ISOTime.string(s?.lastSyncedAt) ?? "never"]
        }))
        print("\nSchedules")
        let schedules = try await db.schedules(instance: instance)
        print(TextTable.render(header: ["ID", "JOB", "CRON", "ZONE", "PARAMS", "ENABLED", "NEXT", "LAST"], rows: schedules.map { (s: ScheduleRecord) -> [String] in
            let params = String(decoding: JSONValue.object(s.params).jsonBytes, as: UTF8.self)
            return [s.id, s.job, s.cron, s.timezone, params, s.enabled ? "yes" : "no", ISOTime.string(s.nextFireAt) ?? "-", s.lastStatus ?? "-"]
        }))
        var q = RunQuery()
        q.instance = instance
        q.limit = runs
        print("\nLatest runs")
        let recent = try await db.runs(q)
        print(TextTable.render(header: ["ID", "JOB", "TRIGGER", "STATUS", "STARTED", "FETCHED", "INS", "UPD", "DEL", "ERROR / MESSAGE"], rows: recent.map { (r: RunRecord) -> [String] in
            let c = r.counts
            let note = String((r.error ?? r.message ?? "").prefix(100))
            let started = ISOTime.string(r.startedAt ?? r.runAt) ?? "-"
            return [r.id, r.job + (r.dryRun ? " (dry)" : ""), r.trigger, r.status.rawValue, started, "\(c.fetched)", "\(c.inserted)", "\(c.updated)", "\(c.deleted)", note]
        }))
    }
}
