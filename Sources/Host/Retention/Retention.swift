import Foundation
import PluginAPI

/// The host's `retention` job: for every instance and collection with a policy — the instance's override, else
/// the manifest's default — removes live records older than `days` (by the policy's date field, else by their
/// last sync) and tombstones older than `tombstone_days`. What the instance's latest complete run saw is never
/// removed, however old its date: a record synced since that run started stays.
struct Retention {
    let store: any HostDatabase
    let registry: PluginRegistry?
    let clock: HostClock

    struct Report {
        var total = 0
        var details: [String: JSONValue] = [:]
        var summary: String {
            let parts = details.keys.sorted().map { k in
                "\(k): \(details[k]?["records"]?.intValue ?? 0) record(s), \(details[k]?["tombstones"]?.intValue ?? 0) tombstone(s)"
            }
            return parts.isEmpty ? "no collection has a retention policy" : "purged " + parts.joined(separator: "; ")
        }
    }

    /// The policy in force: the instance's own, else the manifest's.
    static func effective(declared: RetentionSpec?, override: RetentionSpec?) -> RetentionSpec? { override ?? declared }

    /// `yyyy-MM-dd` of `date` in `zone` (a date field is compared as text against it).
    static func day(_ date: Date, zone: TimeZone) -> String {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = zone
        let d = c.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", d.year ?? 0, d.month ?? 0, d.day ?? 0)
    }

    func apply() async throws -> Report {
        var report = Report()
        let now = clock()
        for instance in try await store.instances() {
            guard let plugin = registry?.plugin(named: instance.plugin) else { continue }
            let overrides = try await store.retentionOverrides(instance: instance.id)
            let policies = plugin.manifest.collections.compactMap { c in Self.effective(declared: c.retention, override: overrides[c.name]).map { (c.name, $0) } }
            if policies.isEmpty { continue }
            var q = RunQuery()
            q.instance = instance.id
            q.status = .succeeded
            q.limit = 1
            let keepSince = try await store.runs(q).first?.startedAt
            let zone = instance.config["timezone"]?.stringValue.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
            for (collection, policy) in policies {
                var records = 0, tombstones = 0
                if let days = policy.days {
                    let cutoff = now.addingTimeInterval(-Double(days) * 86400)
                    records = try await store.purgeExpired(instance: instance.id, collection: collection, field: policy.field, cutoff: cutoff,
                                                           cutoffText: Self.day(cutoff, zone: zone), keepSyncedSince: keepSince)
                }
                if let days = policy.tombstoneDays {
                    tombstones = try await store.purgeDeleted(instance: instance.id, collection: collection, before: now.addingTimeInterval(-Double(days) * 86400))
                }
                report.total += records + tombstones
                report.details["\(instance.id)/\(collection)"] = ["records": .int(Int64(records)), "tombstones": .int(Int64(tombstones))]
            }
        }
        return report
    }
}
