import Foundation
import Logging
import PluginAPI

/// Creating, changing and removing plugin instances: config checked against the plugin's schema and by the
/// plugin itself, the manifest's default schedules created with the instance, the plugin's on-create hook
/// (e.g. VOS initial sync) run after it exists.
public struct InstanceManager: Sendable {
    public let store: any HostDatabase
    public let registry: PluginRegistry
    public let scheduler: Scheduler?
    public let defaultTimeZone: String

    /// The instance's zone: its `timezone` config when it names a zone, else the host's default. Its default
    /// schedules fire in it and the console shows its times in it.
    public func zone(of instance: InstanceRecord) -> String {
        instance.config["timezone"]?.stringValue.flatMap { TimeZone(identifier: $0) != nil ? $0 : nil } ?? defaultTimeZone
    }
    let logger: Logger

    public let clock: HostClock

    /// Whether a new instance's default schedules start enabled. A host that must not reach upstreams by itself
    /// (a test host on real time, where an hourly default would fire at the next hour mid-test) creates them disabled.
    public let defaultSchedulesEnabled: Bool

    public init(store: any HostDatabase, registry: PluginRegistry, scheduler: Scheduler?, defaultTimeZone: String = "UTC", logger: Logger,
                clock: @escaping HostClock = HostClocks.system, defaultSchedulesEnabled: Bool = true) {
        self.clock = clock
        self.defaultSchedulesEnabled = defaultSchedulesEnabled
        self.store = store
        self.registry = registry
        self.scheduler = scheduler
        self.defaultTimeZone = defaultTimeZone
        self.logger = logger
    }

    nonisolated(unsafe) static let idPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/

    func plugin(_ name: String) throws -> PluginHandle {
        guard let p = registry.plugin(named: name) else {
            throw HostError.invalid("plugin \(name.debugDescription) is not loaded (loaded: \(registry.loaded.map(\.name).sorted().joined(separator: ", ")))")
        }
        return p
    }

    /// Checks the config against the schema (unknown, wrong type, missing required → named) and asks the plugin.
    func checkedConfig(_ config: [String: JSONValue], plugin: PluginHandle) async throws -> [String: JSONValue] {
        let checked = try ConfigSchema.validated(config, against: plugin.manifest.config)
        let secrets = ConfigSchema.secretValues(checked, keys: plugin.manifest.config)
        do {
            _ = try await plugin.invoke(PluginOperation.validateConfig, ConfigValidationRequest(config: checked), as: Empty.self,
                                        context: SessionContext(plugin: plugin.name, secrets: secrets), timeout: .seconds(30))
        } catch let e as PluginError {
            // A plugin without its own checks answers "unavailable": the schema check stands alone then.
            if e.kind != .unavailable { throw HostError.invalid("config: \(SecretMasker.redact(e.message, secrets: secrets))") }
        }
        return checked
    }

    @discardableResult
    public func create(id: String, plugin name: String, config: [String: JSONValue], enabled: Bool = true, now: Date = Date()) async throws -> InstanceRecord {
        guard id.wholeMatch(of: Self.idPattern) != nil, id != HostJobs.instance else {
            throw HostError.invalid("id \(id.debugDescription): use 1-63 characters a-z, 0-9, _ and -, starting with a letter or digit")
        }
        let plugin = try plugin(name)
        // Created disabled, a connector's on-create hook (its initial sync) waits for the first enable.
        let record = InstanceRecord(id: id, plugin: name, config: try await checkedConfig(config, plugin: plugin), enabled: enabled,
                                    initialPending: !enabled && plugin.manifest.kind == .connector, createdAt: now, updatedAt: now)
        let schedules = plugin.manifest.jobs.flatMap { job in
            job.schedules.map { d -> ScheduleRecord in
                var s = ScheduleRecord(instance: id, job: job.name, params: d.params, cron: d.cron,
                                       timezone: zone(of: record), enabled: defaultSchedulesEnabled,
                                       note: d.note ?? "default schedule", now: now)
                s.advance(after: now)
                return s
            }
        }
        try await store.createInstance(record, schedules: schedules)
        logger.info("instance \(id) of \(name) created\(enabled ? "" : " disabled") with \(schedules.count) default schedule(s)\(defaultSchedulesEnabled ? "" : " (disabled)")")
        if enabled && plugin.manifest.kind == .connector { await createdHook(record, plugin) }
        scheduler?.wake()
        return record
    }

    /// The connector's on-create hook (e.g. VOS queues its customers sync and the staggered backfill).
    func createdHook(_ record: InstanceRecord, _ plugin: PluginHandle) async {
        let secrets = ConfigSchema.secretValues(record.config, keys: plugin.manifest.config)
        do {
            _ = try await plugin.invoke(PluginOperation.instanceCreated, InstanceEvent(instance: record.info), as: Empty.self,
                                        context: SessionContext(plugin: plugin.name, instance: record.info, secrets: secrets), timeout: .seconds(120))
        } catch let e as PluginError where e.kind == .unavailable {
            // The plugin has no on-create hook.
        } catch {
            logger.error("instance \(record.id): on-create hook failed: \(SecretMasker.redact(String(describing: error), secrets: secrets))")
        }
    }

    /// Why nothing runs for a disabled instance, in the words an operator needs.
    public static func disabledReason(_ id: String) -> String {
        "instance \(id) is disabled: it runs nothing until it is enabled (PATCH /api/v1/instances/\(id) {\"enabled\": true} or `synchost instances enable \(id)`)"
    }

    /// Replaces the given config keys (secret keys left out keep their stored values) and/or the enabled flag.
    @discardableResult
    public func update(id: String, config changes: [String: JSONValue]?, enabled: Bool?) async throws -> InstanceRecord {
        guard var record = try await store.instance(id: id) else { throw HostError.notFound("no instance \(id.debugDescription)") }
        let plugin = try plugin(record.plugin)
        if let changes {
            var merged = record.config
            for (k, v) in changes where !(v == .string(SecretMasker.mask) && plugin.manifest.config.first { $0.key == k }?.secret == true) {
                merged[k] = v
            }
            record.config = try await checkedConfig(merged, plugin: plugin)
        }
        if let enabled { record.enabled = enabled }
        record.updatedAt = clock()
        try await store.updateInstance(record)
        // Enabling starts what waited: the on-create hook of an instance created disabled (once, whichever
        // request or replica gets there first), its schedules and its queued runs.
        if record.enabled, record.initialPending, try await store.claimInitialHook(id: id) {
            record.initialPending = false
            await createdHook(record, plugin)
        }
        if enabled != nil { scheduler?.wake() }
        return record
    }

    public func delete(id: String, purge: Bool) async throws {
        try await store.deleteInstance(id: id, purgeData: purge, now: clock())
        scheduler?.wake()
    }

    /// A schedule's field checks, plus: its instance exists, the instance's plugin has the job, the params fit
    /// the job. Shared by the API and the CLI.
    public func validated(_ schedule: ScheduleRecord) async throws -> ScheduleRecord {
        var s = try schedule.validated()
        if s.instance == HostJobs.instance {
            guard HostJobs.defaults.contains(where: { $0.job == s.job }) else { throw HostError.invalid("job: the host has no job \(s.job.debugDescription)") }
            return s
        }
        guard let instance = try await store.instance(id: s.instance) else { throw HostError.invalid("instance: no instance \(s.instance.debugDescription)") }
        let plugin = try plugin(instance.plugin)
        guard let job = plugin.manifest.job(named: s.job) else {
            throw HostError.invalid("job: \(instance.plugin) has no job \(s.job.debugDescription) (jobs: \(plugin.manifest.jobs.map(\.name).joined(separator: ", ")))")
        }
        s.params = try ConfigSchema.validated(s.params, against: job.params, what: "params")
        return s
    }

    /// The run once it has ended, or as it is after `timeout` (the API's `?wait=`, a live list read).
    public func waitForRun(_ id: String, timeout: Duration) async throws -> RunRecord {
        try await (scheduler?.runner.completions ?? RunCompletions()).wait(for: id, in: store, timeout: timeout)
    }

    /// Queues a run of a job now (or at `runAt`).
    public func enqueue(instance id: String, job: String, params: [String: JSONValue], dryRun: Bool, trigger: String, runAt: Date? = nil) async throws -> RunRecord {
        guard let record = try await store.instance(id: id) else { throw HostError.notFound("no instance \(id.debugDescription)") }
        let plugin = try plugin(record.plugin)
        guard let spec = plugin.manifest.job(named: job) else {
            throw HostError.invalid("\(record.plugin) has no job \(job.debugDescription) (jobs: \(plugin.manifest.jobs.map(\.name).joined(separator: ", ")))")
        }
        if dryRun && !spec.supportsDryRun { throw HostError.invalid("job \(job) does not support dry runs") }
        guard record.enabled else { throw HostError.conflict(Self.disabledReason(id)) }
        // Created at the host's clock, as every other time of a run (a test host moves it; alert windows count from it).
        var run = RunRecord(instance: id, job: job, trigger: trigger, params: try ConfigSchema.validated(params, against: spec.params, what: "params"), dryRun: dryRun,
                            createdAt: clock())
        run.runAt = runAt ?? run.createdAt
        try await store.insertRun(run)
        scheduler?.wake()
        return run
    }
}
