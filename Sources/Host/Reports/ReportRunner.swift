import Foundation
import PluginAPI

/// Renders reports and sends them through the outbox. The host's `reports` job (every minute) fires each enabled
/// report whose cron time has come: one replica claims the fire (a conditional update of its next fire time),
/// and the message's dedup key (report and fire time) keeps a second claim from sending again. A report fired
/// late (the host was down) fires once, for its latest missed time.
struct ReportRunner {
    let store: any HostDatabase
    let registry: PluginRegistry?
    let events: EventBus?
    let clock: HostClock
    let defaultZone: String
    var maxAttempts = 5

    struct Outcome {
        var sent: [String] = []
        var failed: [String] = []
        var summary: String {
            "\(sent.count) report(s) sent" + (sent.isEmpty ? "" : ": " + sent.joined(separator: ", "))
                + (failed.isEmpty ? "" : "; failed: " + failed.joined(separator: "; "))
        }
    }

    /// The zone a report's instance lives in (its `timezone` config, else the host's), as `InstanceManager.zone(of:)`.
    func zone(of instance: InstanceRecord?) -> TimeZone {
        let id = instance?.config["timezone"]?.stringValue.flatMap { TimeZone(identifier: $0) != nil ? $0 : nil } ?? defaultZone
        return TimeZone(identifier: id) ?? TimeZone(identifier: "UTC")!
    }

    /// The next time the report's cron fires after `date`, in its instance's zone; nil when it has none or is disabled.
    func nextFire(_ spec: ReportSpec, after date: Date) async throws -> Date? {
        guard spec.enabled, let c = spec.cron, let cron = CronCache.cron(c) else { return nil }
        return cron.nextFire(after: date, in: zone(of: try await store.instance(id: spec.instance)))
    }

    /// The plugin view a report names, and a check that what it reads exists.
    func source(_ spec: ReportSpec) async throws -> (InstanceRecord, ViewSpec?) {
        guard let instance = try await store.instance(id: spec.instance) else { throw HostError.invalid("instance: no instance \(spec.instance.debugDescription)") }
        guard let plugin = registry?.plugin(named: instance.plugin) else { throw HostError.unavailable("plugin \(instance.plugin) is not loaded") }
        var view: ViewSpec?
        if let v = spec.view {
            guard let found = plugin.manifest.views.first(where: { $0.id == v }) else {
                throw HostError.invalid("view: \(plugin.name) has no view \(v.debugDescription) (it has \(plugin.manifest.views.map(\.id).joined(separator: ", ")))")
            }
            guard found.kind != .summary, found.collection != nil else { throw HostError.invalid("view: \(v) is a summary card; a report reads a table or a chart") }
            view = found
        }
        let collection = spec.collection ?? view?.collection ?? ""
        guard plugin.manifest.collections.contains(where: { $0.name == collection }) else {
            throw HostError.invalid("collection: \(plugin.name) has no collection \(collection.debugDescription)")
        }
        return (instance, view)
    }

    /// The report's table for a firing at `fire`.
    func table(_ spec: ReportSpec, fire: Date) async throws -> (ReportTable, TimeZone) {
        let (instance, view) = try await source(spec)
        let zone = zone(of: instance)
        return (try await ReportTable.build(spec, view: view, zone: zone, fire: fire, store: store), zone)
    }

    /// Renders and queues the report to its channels; the notification ids. `dedupKey` nil: a manual run sends every time.
    func send(_ spec: ReportSpec, fire: Date, dedupKey: String?) async throws -> (ids: [String], table: ReportTable) {
        guard !spec.channels.isEmpty else { throw HostError.invalid("report \(spec.id) has no channels") }
        let (table, zone) = try await table(spec, fire: fire)
        let message = try ReportRendering.message(spec, table, fire: fire, zone: zone, now: clock())
        let ids = try await Outbox.queue(message, channels: spec.channels, dedupKey: dedupKey, source: spec.instance, store: store, registry: registry,
                                         maxAttempts: maxAttempts, now: clock(), events: events ?? EventBus())
        return (ids, table)
    }

    /// The `reports` job: fires what is due.
    func fireDue() async throws -> Outcome {
        var outcome = Outcome()
        let now = clock()
        for stored in try await store.reports() where stored.spec.enabled {
            guard let due = stored.nextFireAt, due <= now else { continue }
            let spec = stored.spec
            // The latest fire time that has come (one message for a host that was down over several).
            var fire = due
            var steps = 0
            while let n = try await nextFire(spec, after: fire), n <= now, steps < 10_000 {
                fire = n
                steps += 1
            }
            let next = try await nextFire(spec, after: now)
            guard try await store.claimReportFire(id: spec.id, due: due, next: next) else { continue }
            do {
                let (ids, table) = try await send(spec, fire: fire, dedupKey: "report:\(spec.id):\(fire.millis)")
                let text = "sent to \(ids.count) channel(s): \(table.rows.count) row(s), \(table.rangeText), \(spec.formats.map(\.rawValue).joined(separator: "+"))"
                try await store.recordReportOutcome(id: spec.id, firedAt: now, outcome: text, failed: false)
                outcome.sent.append(spec.id)
            } catch {
                let text = (error as? PluginError)?.message ?? (error as? HostError)?.description ?? "\(error)"
                try await store.recordReportOutcome(id: spec.id, firedAt: now, outcome: text, failed: true)
                outcome.failed.append("\(spec.id): \(text)")
            }
        }
        return outcome
    }
}
