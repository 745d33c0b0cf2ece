import Foundation
import PluginAPI

/// Enterprise WeChat external contacts: follow users, contacts, sessions.
public struct WeComConnector: Connector {
    public init() {}

    static let jobTable = JobTable<WeComConnector>([
        Job(JobSpec("contacts_incremental", description: "Follow users, then batch/get_by_user with cursor paging; writes only changes",
                    schedules: [DefaultSchedule("0 * * * *")])) { p, context in
            try await p.contacts(context, full: false)
        },
        Job(JobSpec(
            "contacts_full", description: "As incremental, then marks contacts and sessions not seen as deleted (complete runs only)",
            params: [ConfigKey("force", .boolean, default: false, description: "Run even if an incremental is running")],
            schedules: [DefaultSchedule("0 2 * * *")])) { p, context in
            try await p.contacts(context, full: true)
        },
        Job(JobSpec("cleanup", description: "Purge records deleted longer than retention_days ago", schedules: [DefaultSchedule("0 3 * * 0")])) { p, context in
            try await p.cleanup(context)
        },
    ])

    static let routeTable = RouteTable<WeComConnector>([
        Route(RouteSpec("GET", "instances/{id}/status", description: "Counts by status, running and last runs")) { _, _, context in
            try await Self.status(context)
        },
        Route(RouteSpec("GET", "instances/{id}/health", description: "Health score 0-100 and its parts")) { _, _, context in
            let r = try await Self.health(context).report()
            return Self.answer(["score": .int(Int64(r.score)), "parts": .object(r.parts),
                                "formula": "40×success_rate + 20×(1−min(failed_24h,10)/10) + 20×data_consistency + 20×delay_score (1 ≤ 1 h, 0 at ≥ 6 h)"])
        },
        Route(RouteSpec("GET", "instances/{id}/metrics", description: "Per-day runs, records, errors, durations for ?days=1..30")) { _, route, context in
            guard let raw = route.query["days"] ?? Optional("7"), let days = Int(raw), (1...30).contains(days) else {
                return RouteResponse(status: 400, body: #"{"error":{"code":"invalid","message":"days must be an integer 1-30"}}"#)
            }
            return Self.answer(try await Self.health(context).metrics(days: days))
        },
        Route(RouteSpec("GET", "instances/{id}/alerts", description: "Current alerts: the host's alert rules for this instance")) { _, _, context in
            let health = try Self.health(context)
            let r = try await health.report()
            return Self.answer(["score": .int(Int64(r.score)), "alerts": .array(try await health.alerts())])
        },
    ])

    public static let manifest = PluginManifest(
        name: "wecom", version: "0.2.0", kind: .connector,
        description: "WeCom external contacts: incremental, full and dry-run sync, health score, metrics and alerts.",
        config: [
            ConfigKey("corp_id", .string, required: true, description: "Corp ID"),
            ConfigKey("corp_secret", .string, required: true, secret: true, description: "Secret of the 客户联系 app (or of an app in 「客户联系 可调用接口的应用」)"),
            ConfigKey("agent_id", .string, description: "Agent ID"),
            ConfigKey("base_url", .string, default: "https://qyapi.weixin.qq.com", description: "API host"),
            ConfigKey("batch_size", .integer, default: 100, description: "User ids per batch/get_by_user call, 1-100"),
            ConfigKey("rate_limit_backoff_s", .integer, default: 60, description: "Wait after errcode 45009 (the minute bucket; a second 45009 in a row waits ×60, the hour bucket)"),
            ConfigKey("run_budget_s", .integer, default: 3_600, description: "A run never waits out a rate limit past this; it fails with a clear message instead"),
            ConfigKey("alert_channel", .string, description: "Notify instance id that receives this instance's default alerts (none: alerts are only listed); the host's alert rules send them"),
            ConfigKey("alert_min_score", .integer, default: 60, description: "Health score below this is a critical alert (the host's default rule, for this instance)"),
            ConfigKey("alert_max_errors", .integer, default: 5, description: "More failed runs than this in 24 h is a warning (the host's default rule, for this instance)"),
            ConfigKey("alert_max_delay_hours", .integer, default: 2, description: "No successful sync for longer than this is a warning (the host's default rule, for this instance)"),
            ConfigKey("retention_days", .integer, default: 90, description: "Days deleted records are kept before cleanup purges them"),
            ConfigKey("timezone", .string, default: "Asia/Shanghai", description: "Zone of the default schedules (02:00 full sync, Sunday 03:00 clean-up), of metrics' days and of shown times"),
        ],
        jobs: jobTable.specs,
        collections: [
            CollectionSpec("contacts", keyField: "external_userid", description: "External contacts, deduplicated across followers: status normal (deleted once a full sync no longer sees them), contact_type full", tombstones: true, refreshJob: "contacts_incremental"),
            CollectionSpec("sessions", keyField: "external_userid:userid", description: "One per contact and follower: remark, tags, add_way, createtime, source, is_active", tombstones: true),
            CollectionSpec("staff", keyField: "userid", description: "Follow users: name, customer count, status active / inactive (left the follow-user list)"),
        ],
        routes: routeTable.specs,
        views: views
    )

    /// Health at a glance, runs and errors per day, contacts and follow users, with the sync actions.
    static let views: [ViewSpec] = {
        typealias T = LocalizedText
        return [
            ViewSpec("health", .summary, title: T("健康度", "Health"), route: "instances/{id}/health", columns: [
                ViewColumn("score", T("健康分", "Score"), format: .number),
                ViewColumn("parts.success_rate", T("成功率", "Success rate"), format: .number),
                ViewColumn("parts.failed_24h", T("24小时失败", "Failed in 24 h"), format: .number),
                ViewColumn("parts.data_consistency", T("数据一致性", "Consistency"), format: .number),
                ViewColumn("parts.sync_delay_hours", T("同步延迟(小时)", "Sync delay (h)"), format: .number),
                ViewColumn("parts.live_contacts", T("有效客户", "Live contacts"), format: .number),
            ], actions: [
                ViewAction("incremental", .job, label: T("增量同步", "Incremental sync"), target: "contacts_incremental"),
                ViewAction("full", .job, label: T("全量同步", "Full sync"), target: "contacts_full",
                           confirm: T("全量同步会标记已删除的客户，确定吗？", "A full sync marks contacts no longer returned as deleted. Go on?")),
            ]),
            ViewSpec("runs_per_day", .chart, title: T("每日运行与错误", "Runs and errors per day"), route: "instances/{id}/metrics", rows: "metrics",
                     chart: ChartSpec(.bar, x: "date", series: [ViewColumn("succeeded", T("成功", "Succeeded"), format: .number),
                                                                 ViewColumn("errors", T("错误", "Errors"), format: .number)], days: 7)),
            ViewSpec("contacts", .table, title: T("外部联系人", "External contacts"), collection: "contacts", columns: [
                ViewColumn("name", T("名称", "Name")),
                ViewColumn("corp_name", T("企业", "Company")),
                ViewColumn("status", T("状态", "Status"), format: .status),
                ViewColumn("@key", T("external_userid", "external_userid")),
                ViewColumn("@changed_at", T("变更时间", "Changed at"), format: .datetime),
            ], filters: ["status"], order: "-changed_at"),
            ViewSpec("staff", .table, title: T("跟进成员", "Follow users"), collection: "staff", columns: [
                ViewColumn("@key", T("成员", "User id")),
                ViewColumn("customers", T("客户数", "Customers"), format: .number),
                ViewColumn("status", T("状态", "Status"), format: .status),
            ]),
        ]
    }()

    public func validate(config: [String: JSONValue]) throws {
        _ = try WeComClient.Settings(config: config)
        _ = try Health.zone(config)
        try Health.validateThresholds(config)
    }

    public func run(job: String, context: JobContext) async throws -> RunResult {
        try await Self.jobTable.run(self, job: job, context: context)
    }

    /// A contact sync; the host's alert rules judge how it ended.
    func contacts(_ context: JobContext, full: Bool) async throws -> RunResult {
        let client = WeComClient(settings: try WeComClient.Settings(config: context.config), http: context.http, store: context.store, log: context.log)
        return try await ContactSync(client: client, context: context, full: full).run()
    }

    func cleanup(_ context: JobContext) async throws -> RunResult {
        let days = try context.config.int("retention_days") ?? 90
        guard days >= 1 else { throw PluginError(.config, "retention_days must be at least 1") }
        let cutoff = context.now.addingTimeInterval(-Double(days) * 86_400)
        var purged = 0
        for c in ["contacts", "sessions"] { purged += try await context.store.purgeDeleted(c, before: cutoff) }
        return RunResult(counts: RunCounts(deleted: purged), message: "purged \(purged) records deleted before \(Health.timeFormatter(context.config).string(from: cutoff))")
    }

    public func handle(route: RouteRequest, context: RouteContext) async throws -> RouteResponse {
        try await Self.routeTable.handle(self, route: route, context: context)
    }

    static func health(_ context: RouteContext) throws -> Health {
        Health(context: context, config: try context.requireInstance().config, now: context.now)
    }

    static func answer(_ body: JSONValue) -> RouteResponse { RouteResponse(body: String(decoding: body.jsonBytes, as: UTF8.self)) }

    static func status(_ context: RouteContext) async throws -> RouteResponse {
        let instance = try context.requireInstance()
        func byStatus(_ c: String) async throws -> JSONValue {
            let rows = try await context.store.aggregate(.init(collection: c, groupBy: "status", deletedAsGroup: true))
            return .object(Dictionary(uniqueKeysWithValues: rows.map { ($0.group ?? "unknown", JSONValue.int(Int64($0.count))) }))
        }
        let runs = try await context.scheduler.runs(limit: 20)
        return answer([
            "contacts": try await byStatus("contacts"), "sessions": try await byStatus("sessions"), "staff": try await byStatus("staff"),
            "running": .array(runs.filter { $0.status == "running" }.map { Self.view($0, instance.config) }),
            "last_runs": .array(runs.filter { $0.status != "running" && $0.status != "queued" }.prefix(5).map { Self.view($0, instance.config) }),
        ])
    }

    static func view(_ r: RunInfo, _ config: [String: JSONValue]) -> JSONValue {
        let fmt = Health.timeFormatter(config)
        return [
            "id": .string(r.id), "job": .string(r.job), "status": .string(r.status), "trigger": .string(r.trigger), "dry_run": .bool(r.dryRun),
            "started_at": r.startedAt.map { .string(fmt.string(from: $0)) } ?? .null,
            "finished_at": r.finishedAt.map { .string(fmt.string(from: $0)) } ?? .null,
            "fetched": .int(Int64(r.counts.fetched)), "inserted": .int(Int64(r.counts.inserted)), "updated": .int(Int64(r.counts.updated)),
            "deleted": .int(Int64(r.counts.deleted)), "error": r.error.map { .string($0) } ?? .null,
        ]
    }
}
