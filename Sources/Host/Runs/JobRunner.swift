import Foundation
import Logging
import PluginAPI

/// Runs one job of one instance through its plugin and records the run: running, then succeeded /
/// incomplete / failed / cancelled, with counts and error. A complete run applies full-sync deletions for the
/// collections it reports as seen in full (and declared with tombstones); an incomplete run never deletes.
public struct JobRunner: Sendable {
    public let registry: PluginRegistry
    public let store: any HostDatabase
    public let logger: Logger
    public let clock: HostClock
    /// Told of every run this runner records as ended (API callers waiting for a run).
    public let completions: RunCompletions
    /// Runs started and finished go to the events stream; their progress is kept while they run.
    public let events: EventBus
    public let progress: RunProgress

    public init(registry: PluginRegistry, store: any HostDatabase, logger: Logger, clock: @escaping HostClock = HostClocks.system,
                completions: RunCompletions = RunCompletions(), events: EventBus = EventBus(), progress: RunProgress = RunProgress()) {
        self.clock = clock
        self.events = events
        self.progress = progress
        self.completions = completions
        self.registry = registry
        self.store = store
        self.logger = logger
    }

    @discardableResult
    public func execute(_ queued: RunRecord, instance: InstanceInfo, timeout: Duration = .seconds(3600)) async throws -> RunRecord {
        var run = queued
        guard let plugin = registry.plugin(named: instance.plugin) else {
            run.status = .failed
            run.error = "plugin \(instance.plugin) is not loaded"
            run.finishedAt = clock()
            if try await store.run(id: run.id) == nil { try await store.insertRun(run) }
            try await store.finishRun(run)
            completions.finished(run.id)
            return run
        }
        // A run the scheduler claimed is stored as running already (the claim started it).
        if !(run.status == .running && run.leaseOwner != nil) {
            run.status = .running
            run.startedAt = clock()
            try await save(run)
        }
        events.publish(HostEvent.runStarted, Self.event(run, instance: instance))
        let secrets = ConfigSchema.secretValues(instance.config, keys: plugin.manifest.config)
        let tally = RunTally()
        let context = SessionContext(plugin: plugin.name, instance: instance, runID: run.id, dryRun: run.dryRun, secrets: secrets, tally: tally)
        let request = RunRequest(runID: run.id, job: run.job, instance: instance, params: run.params, dryRun: run.dryRun,
                                 trigger: run.trigger, scheduledFor: run.scheduledFor, now: clock())
        do {
            let answer = try await plugin.invoke(PluginOperation.run, request: request.json.jsonBytes, context: context, timeout: timeout)
            let result: RunResult
            do { result = try RunResult(json: try JSONValue.parse(answer)) } catch {
                throw PluginError(.internal, "plugin \(plugin.name) answered run with malformed JSON: \(error)")
            }
            run.counts = Self.merge(reported: result.counts, stored: tally.total)
            run.complete = result.complete
            // Keep what the host noted on the run (catch-up, retry) beside what the plugin says.
            let said = result.message.map { SecretMasker.redact($0, secrets: secrets) }
            run.message = [run.message, said].compactMap { $0 }.joined(separator: "; ").nilIfEmpty
            if result.complete && !run.dryRun {
                let tombstoned = Set(plugin.manifest.collections.filter(\.tombstones).map(\.name))
                for collection in result.fullSync where tombstoned.contains(collection) {
                    run.counts.deleted += try await store.markUnseenDeleted(instance: instance.id, collection: collection, runID: run.id, now: clock())
                }
            }
            run.details = result.details
            run.status = result.complete ? .succeeded : .incomplete
        } catch let e as PluginCrashed {
            run.counts = tally.total
            run.status = .crashed
            run.error = SecretMasker.redact(e.description, secrets: secrets)
        } catch let e as PluginError where e.kind == .cancelled && !e.message.contains("timed out") {
            // Cancelled by a user, a `replace` overlap or shutdown. A job that hit its timeout failed instead.
            run.counts = tally.total
            run.status = .cancelled
            run.error = SecretMasker.redact(e.message, secrets: secrets)
        } catch {
            run.counts = tally.total
            run.status = .failed
            run.error = SecretMasker.redact(PluginError.wrapping(error).description, secrets: secrets)
        }
        run.finishedAt = clock()
        run.log = tally.excerpt
        run.details.merge(tally.wouldHaveDone) { _, host in host }
        // The outcome is written even when the run's task was cancelled (host shutdown): never lose it.
        let final = run
        let store = self.store
        try await Task.detached { try await store.finishRun(final) }.value
        completions.finished(run.id)
        progress.ended(run.id)
        events.publish(HostEvent.runFinished, Self.event(run, instance: instance))
        HostMetrics.runFinished(plugin: instance.plugin, job: run.job, status: run.status.rawValue,
                                counts: RunCountsSnapshot(inserted: run.counts.inserted, updated: run.counts.updated, deleted: run.counts.deleted),
                                seconds: run.startedAt.map { run.finishedAt!.timeIntervalSince($0) })
        logger.info("run \(run.id) \(instance.id)/\(run.job) \(run.status.rawValue)\(run.error.map { ": \($0)" } ?? "")",
                    metadata: ["instance": .string(instance.id), "run": .string(run.id)])
        return run
    }

    /// A run as the events stream tells it.
    static func event(_ run: RunRecord, instance: InstanceInfo) -> JSONValue {
        let c = run.counts
        return [
            "run": .string(run.id), "instance": .string(instance.id), "plugin": .string(instance.plugin), "job": .string(run.job),
            "status": .string(run.status.rawValue), "trigger": .string(run.trigger), "dry_run": .bool(run.dryRun),
            "counts": ["fetched": .int(Int64(c.fetched)), "inserted": .int(Int64(c.inserted)), "updated": .int(Int64(c.updated)),
                       "unchanged": .int(Int64(c.unchanged)), "deleted": .int(Int64(c.deleted))],
            "error": run.error.map(JSONValue.string) ?? .null,
        ]
    }

    static func merge(reported: RunCounts, stored: RunCounts) -> RunCounts { RunCounts.merged(reported: reported, stored: stored) }

    /// A run the scheduler claimed is already stored; one started directly (run-once, tests) is not yet.
    private func save(_ run: RunRecord) async throws {
        if try await store.run(id: run.id) == nil { try await store.insertRun(run) } else { try await store.updateRun(run) }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
