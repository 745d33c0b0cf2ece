import PluginAPI

/// Guanke (Gooki) call-center platform: task-level and grade-level (9/1) stats per date.
public struct GuankeConnector: Connector {
    public init() {}

    static let datesParam = ConfigKey("dates", .string, description: "today | T-3..T-1 | T-10..T-1 | yyyy-MM-dd[..yyyy-MM-dd]")

    static let jobTable = JobTable<GuankeConnector>([
        Job(JobSpec(
            "task_stats", description: "POST /extension/agent/stat per date range (≤ 7-day windows)", params: [datesParam],
            schedules: [
                DefaultSchedule("0 7 * * *", params: ["dates": "T-10..T-1"], note: "T-10 to yesterday"),
                DefaultSchedule("0 1,10,15,21 * * *", params: ["dates": "T-3..T-1"], note: "T-3 to yesterday"),
                DefaultSchedule("0 9-23 * * *", params: ["dates": "today"], note: "today, hourly"),
            ])) { plugin, context in
            let (client, days) = try plugin.clientAndDays(context)
            return try await TaskStats(client: client).run(days: days, store: context.store)
        },
        Job(JobSpec(
            "grade_stats", description: "GET /task/cdr/all2, every page until totalCount", params: [datesParam],
            schedules: [
                DefaultSchedule("5 7 * * *", params: ["dates": "T-10..T-1"], note: "T-10 to yesterday"),
                DefaultSchedule("5 1,10,15,21 * * *", params: ["dates": "T-3..T-1"], note: "T-3 to yesterday"),
                DefaultSchedule("*/10 9-23 * * *", params: ["dates": "today"], note: "today, every 10 minutes"),
            ])) { plugin, context in
            let (client, days) = try plugin.clientAndDays(context)
            return try await GradeStats(client: client, progress: context.scheduler).run(days: days, store: context.store)
        },
        Job(JobSpec(
            "cleanup", description: "Purge cached days older than retention_days (stats, task rows)",
            schedules: [DefaultSchedule("30 3 * * *", note: "清理过期缓存")])) { plugin, context in
            try await plugin.cleanup(context, dates: DateSpec(zone: try plugin.client(context.config, context.host).zone))
        },
    ])

    static let routeTable = RouteTable<GuankeConnector>([
        Route(RouteSpec("GET", "instances/{id}/grade-stats", description: "Grade stats of ?date= (today: live on a miss)")) { p, route, context in
            try await StatsRoutes(p, context).read(.grade, route.query)
        },
        Route(RouteSpec("POST", "instances/{id}/grade-stats/refresh", description: "Refresh one date's grade stats now")) { p, route, context in
            try await StatsRoutes(p, context).refresh(.grade, route.body)
        },
        Route(RouteSpec("GET", "instances/{id}/task-stats", description: "Task stats of ?date=")) { p, route, context in
            try await StatsRoutes(p, context).read(.task, route.query)
        },
        Route(RouteSpec("POST", "instances/{id}/task-stats/refresh", description: "Refresh one date's task stats now")) { p, route, context in
            try await StatsRoutes(p, context).refresh(.task, route.body)
        },
        Route(RouteSpec("GET", "instances/{id}/stats", description: "Both tracks per day for ?from=&to=")) { p, route, context in
            try await StatsRoutes(p, context).joined(route.query)
        },
    ])

    public static let manifest = PluginManifest(
        name: "guanke", version: "0.2.0", kind: .connector,
        description: "Guanke call-center stats: task stats and call-record grade stats per date, dual-track cache.",
        config: [
            ConfigKey("base_url", .string, required: true, description: "Platform API base URL, e.g. https://open-api.gooki.com"),
            ConfigKey("username", .string, description: "Login name, with password: GET /token?username=&password= (URL-encoded)"),
            ConfigKey("password", .string, secret: true, description: "Password (with username)"),
            ConfigKey("secret", .string, secret: true, description: "API secret: GET /token/secret?secret= (takes precedence over username/password)"),
            ConfigKey("page_size", .integer, default: 1000, description: "Records per cdr/all2 page, 1-1000 (the platform returns nothing above 1000, so larger values are refused)"),
            ConfigKey("timezone", .string, default: "Asia/Shanghai", description: "Zone of today/T-N and of the default schedules"),
            ConfigKey("retention_days", .integer, default: 30, description: "Cached days older than this are purged by cleanup (the seed's 30-day cache expiry)"),
        ],
        jobs: jobTable.specs,
        collections: [
            CollectionSpec("task_stats", keyField: "date", description: "Per-date task totals (tasks, callout, called, success, connected rate)"),
            CollectionSpec("task_rows", keyField: "date_task", description: "Per-task rows of each date"),
            CollectionSpec("grade_stats", keyField: "date", description: "Per-date grade_9, grade_1, totals, pages, complete flag"),
        ],
        routes: routeTable.specs,
        views: views
    )

    /// The legacy stats page: 9元/1元 per day as a chart and a table, task totals per day, with "sync now" and
    /// "refresh this date".
    static let views: [ViewSpec] = {
        typealias T = LocalizedText
        let dateInput = ConfigKey("date", .string, required: true, description: "yyyy-MM-dd, today or T-N")
        let datesInput = ConfigKey("dates", .string, default: "T-3..T-1", description: "today, T-N, yyyy-MM-dd or a range A..B")
        let refresh = ViewAction("refresh_date", .route, label: T("刷新某日", "Refresh a date"), target: "instances/{id}/grade-stats/refresh", inputs: [dateInput])
        let syncGrades = ViewAction("sync_grades", .job, label: T("立即同步", "Sync now"), target: "grade_stats", inputs: [datesInput])
        return [
            ViewSpec("grade_trend", .chart, title: T("9元/1元 每日趋势", "9元/1元 per day"), collection: "grade_stats",
                     chart: ChartSpec(.line, series: [ViewColumn("grade_9", T("9元", "9元")), ViewColumn("grade_1", T("1元", "1元"))], days: 30),
                     actions: [syncGrades]),
            ViewSpec("grade_days", .table, title: T("评级统计（按日）", "Grade stats by day"), collection: "grade_stats", columns: [
                ViewColumn("@key", T("日期", "Date"), format: .date),
                ViewColumn("grade_9", T("9元", "9元"), format: .number),
                ViewColumn("grade_1", T("1元", "1元"), format: .number),
                ViewColumn("total_success", T("成功合计", "Successes"), format: .number),
                ViewColumn("total_records", T("通话记录", "Call records"), format: .number),
                ViewColumn("complete", T("完整", "Complete"), format: .bool),
                ViewColumn("@synced_at", T("同步时间", "Synced at"), format: .datetime),
            ], order: "-key", actions: [refresh, syncGrades]),
            ViewSpec("task_days", .table, title: T("任务统计（按日）", "Task stats by day"), collection: "task_stats", columns: [
                ViewColumn("@key", T("日期", "Date"), format: .date),
                ViewColumn("total_tasks", T("任务数", "Tasks"), format: .number),
                ViewColumn("callout", T("外呼", "Called out"), format: .number),
                ViewColumn("called", T("接通", "Answered"), format: .number),
                ViewColumn("success", T("成功", "Successes"), format: .number),
                ViewColumn("connected_rate", T("接通率", "Answer rate"), format: .percent),
                ViewColumn("@synced_at", T("同步时间", "Synced at"), format: .datetime),
            ], order: "-key", actions: [
                ViewAction("refresh_task_date", .route, label: T("刷新某日", "Refresh a date"), target: "instances/{id}/task-stats/refresh", inputs: [dateInput]),
                ViewAction("sync_tasks", .job, label: T("立即同步", "Sync now"), target: "task_stats", inputs: [datesInput]),
            ]),
        ]
    }()

    public func validate(config: [String: JSONValue]) throws {
        _ = try GuankeClient.Settings(config: config)
        if let d = try config.int("retention_days"), d < 1 { throw PluginError(.config, "retention_days must be at least 1") }
    }

    func client(_ config: [String: JSONValue], _ host: HostServices) throws -> GuankeClient {
        try GuankeClient(config: config, http: host.http, store: host.store, log: host.log)
    }

    public func run(job: String, context: JobContext) async throws -> RunResult {
        try await Self.jobTable.run(self, job: job, context: context)
    }

    func clientAndDays(_ context: JobContext) throws -> (GuankeClient, [String]) {
        let client = try client(context.config, context.host)
        return (client, try DateSpec(zone: client.zone).resolve(try context.params.string("dates") ?? "today", now: context.now))
    }

    /// Days before T-`retention_days` (the instance's zone) leave the cache: both tracks and the task rows.
    func cleanup(_ context: JobContext, dates: DateSpec) async throws -> RunResult {
        let keep = try context.config.int("retention_days") ?? 30
        guard keep >= 1 else { throw PluginError(.config, "retention_days must be at least 1") }
        let cutoff = try dates.resolve("T-\(keep)", now: context.now)[0]
        var purged = 0
        for collection in ["grade_stats", "task_stats", "task_rows"] {
            var old: [String] = []
            var cursor: String?
            repeat {
                let page = try await context.store.list(.init(collection: collection, keyTo: cutoff, limit: 1000, cursor: cursor))
                old += page.records.map(\.key).filter { $0 < cutoff }  // task rows are "date|task": all of a day sort after it
                cursor = page.nextCursor
            } while cursor != nil
            for start in stride(from: 0, to: old.count, by: 1000) {
                purged += try await context.store.purge(collection, keys: Array(old[start..<min(start + 1000, old.count)]))
            }
        }
        return RunResult(counts: RunCounts(deleted: purged), message: "purged \(purged) cached entries of days before \(cutoff) (keeping \(keep) days)")
    }

    public func handle(route: RouteRequest, context: RouteContext) async throws -> RouteResponse {
        try await Self.routeTable.handle(self, route: route, context: context)
    }
}
