import Foundation
import PluginAPI

/// Remote project service: project cache, change detection and notifications, access tokens.
public struct ProjectSyncConnector: Connector {
    public init() {}

    static let jobTable = JobTable<ProjectSyncConnector>([
        Job(JobSpec(
            "sync", description: "Incremental by updated_since with ETag; tombstones; change notifications",
            params: [ConfigKey("full", .boolean, description: "Ignore the cursor: re-read every project")],
            schedules: [DefaultSchedule("*/15 * * * *")])) { p, context in
            try await p.sync(context).run(full: try context.params.bool("full") ?? false)
        },
        Job(JobSpec("cleanup_cache", description: "Read every project, then purge cache entries the upstream no longer returns (older than cache_ttl_hours)",
                    schedules: [DefaultSchedule("0 2 * * *")])) { p, context in
            try await p.cleanupCache(context)
        },
        Job(JobSpec("cleanup_tokens", description: "Purge expired access tokens", schedules: [DefaultSchedule("0 3 * * *")])) { p, context in
            let n = try await p.purge(context.store, "access_tokens") { token, _ in (ProjectSync.date(token.data["expires_at"]?.stringValue) ?? .distantFuture) < Date() }
            return RunResult(counts: RunCounts(deleted: n), message: "purged \(n) expired access tokens")
        },
    ])

    static let routeTable = RouteTable<ProjectSyncConnector>([
        Route(RouteSpec("GET", "projects/{project}/verify-access", description: "Check an access token (?token=)", isPublic: true)) { _, route, context in
            try await ProjectRoutes.serve(context) { try await $0.verifyAccess(route) }
        },
        Route(RouteSpec("GET", "projects/{project}", description: "A project by access token (?token=; force_sync=true or use_cache=false reads live, stale cache on failure)",
                        isPublic: true)) { _, route, context in
            try await ProjectRoutes.serve(context) { try await $0.readProject(route) }
        },
        Route(RouteSpec("GET", "projects/{project}/page", description: "The project's page for a tokenised link (?token=, lang=zh-CN|en): HTML, no script",
                        isPublic: true)) { _, route, context in
            let zh = (route.query["lang"] ?? route.headers["accept-language"] ?? "zh").lowercased().hasPrefix("zh")
            return ProjectPage.render(try await ProjectRoutes.serve(context) { try await $0.readProject(route) }, zh: zh)
        },
        Route(RouteSpec("GET", "instances/{id}/config/time-display", description: "How times are shown: timezone, format, mode (absolute or relative)")) { _, _, context in
            try await ProjectRoutes.serve(context) { try await $0.timeDisplay() }
        },
        Route(RouteSpec("POST", "instances/{id}/config/time-display", description: "Save how times are shown: {timezone, format, mode}")) { _, route, context in
            try await ProjectRoutes.serve(context) { try await $0.saveTimeDisplay(route) }
        },
        Route(RouteSpec("POST", "instances/{id}/tokens", description: "Create an access token: {project_id, ttl_hours, note}")) { _, route, context in
            try await ProjectRoutes.serve(context) { try await $0.createToken(route.body) }
        },
        Route(RouteSpec("GET", "instances/{id}/tokens", description: "List access tokens")) { _, _, context in
            try await ProjectRoutes.serve(context) { try await $0.listTokens() }
        },
        Route(RouteSpec("DELETE", "instances/{id}/tokens/{jti}", description: "Revoke an access token")) { _, route, context in
            try await ProjectRoutes.serve(context) { try await $0.revokeToken(route) }
        },
        Route(RouteSpec("GET", "instances/{id}/history", description: "Sync history: total, updated, unchanged, failed, duration per run")) { _, route, context in
            try await ProjectRoutes.serve(context) { try await $0.history(route.query) }
        },
        Route(RouteSpec("POST", "instances/{id}/sync", description: "Run a sync now")) { _, _, context in
            try await ProjectRoutes.serve(context) { try await $0.syncNow() }
        },
    ])

    public static let manifest = PluginManifest(
        name: "projectsync", version: "0.2.0", kind: .connector,
        description: "Remote project cache with change detection, status-change notifications and per-project access tokens.",
        config: [
            ConfigKey("base_url", .string, required: true, description: "Remote project service URL"),
            ConfigKey("api_token", .string, required: true, secret: true, description: "API token of the remote service"),
            ConfigKey("project_types", .stringList, description: "Project types to sync: presales, aftersales, sales (default: all)"),
            ConfigKey("cache_ttl_hours", .integer, default: 24, description: "Cache lifetime: older entries are read live; cleanup_cache purges those the upstream no longer returns"),
            ConfigKey("notify_on", .stringList, default: ["status", "stage", "progress"], description: "Changes that notify: status, stage, progress"),
            ConfigKey("notify_channels", .stringList, description: "Notify instance ids that receive change notifications (none: no notifications)"),
            ConfigKey("template", .string, description: "Message template: {id} {name} {type} {status} {old_status} {stage} {progress} {owner} {changes} {updated_at}"),
            ConfigKey("notify_first_import", .boolean, default: false, description: "Notify for projects seen the first time"),
            ConfigKey("timezone", .string, default: "Asia/Shanghai", description: "Zone of the default clean-up schedules and, until the time-display setting says otherwise, of shown times"),
            ConfigKey("force_sync_interval_s", .integer, default: 10, description: "Shortest interval between force_sync reads of one access token"),
        ],
        jobs: jobTable.specs,
        collections: [
            CollectionSpec("projects", keyField: "id", description: "Projects with status, stage, progress, version (deleted: tombstones)"),
            CollectionSpec("access_tokens", keyField: "jti", description: "Issued access tokens: project, expiry, revocation (never the token itself)"),
        ],
        routes: routeTable.specs,
        views: views
    )

    /// The cached projects, and the access tokens a project detail link carries: issue, list, revoke.
    static let views: [ViewSpec] = {
        typealias T = LocalizedText
        return [
            ViewSpec("projects", .table, title: T("项目", "Projects"), collection: "projects", columns: [
                ViewColumn("@key", T("编号", "ID")),
                ViewColumn("name", T("名称", "Name")),
                ViewColumn("type", T("类型", "Type")),
                ViewColumn("status", T("状态", "Status"), format: .status),
                ViewColumn("stage", T("阶段", "Stage")),
                ViewColumn("progress", T("进度", "Progress"), format: .percent),
                ViewColumn("owner", T("负责人", "Owner")),
                ViewColumn("@changed_at", T("变更时间", "Changed at"), format: .datetime),
            ], filters: ["type", "status"], order: "-changed_at", actions: [
                ViewAction("sync", .job, label: T("立即同步", "Sync now"), target: "sync"),
                ViewAction("issue_token", .route, label: T("生成访问链接", "Issue an access link"), target: "instances/{id}/tokens", inputs: [
                    ConfigKey("project_id", .string, required: true, description: "Project id"),
                    ConfigKey("ttl_hours", .integer, default: 72, description: "Hours the link works"),
                    ConfigKey("note", .string, description: "Who it is for"),
                ]),
            ]),
            ViewSpec("access_tokens", .table, title: T("访问令牌", "Access tokens"), collection: "access_tokens", columns: [
                ViewColumn("project_id", T("项目", "Project")),
                ViewColumn("note", T("备注", "Note")),
                ViewColumn("created_at", T("创建时间", "Created at"), format: .datetime),
                ViewColumn("expires_at", T("过期时间", "Expires at"), format: .datetime),
                ViewColumn("revoked", T("已撤销", "Revoked"), format: .bool),
            ], order: "-synced_at", actions: [
                ViewAction("revoke", .route, label: T("撤销", "Revoke"), target: "instances/{id}/tokens/{jti}", method: "DELETE", row: true,
                           inputs: [ConfigKey("jti", .string, required: true, description: "Token id")],
                           confirm: T("撤销后该链接立即失效，确定吗？", "The link stops working at once. Revoke it?")),
            ]),
        ]
    }()

    public func validate(config: [String: JSONValue]) throws {
        _ = try RemoteProjects.check(config)
        if let z = try config.string("timezone"), TimeZone(identifier: z) == nil { throw PluginError(.config, "timezone: unknown time zone \(z.debugDescription)") }
        for f in config.strings("notify_on") where !["status", "stage", "progress"].contains(f) {
            throw PluginError(.config, "notify_on: \(f.debugDescription) is not status, stage or progress")
        }
        if let h = try config.int("cache_ttl_hours"), h < 1 { throw PluginError(.config, "cache_ttl_hours must be at least 1") }
    }

    func sync(_ context: JobContext) throws -> ProjectSync {
        ProjectSync(remote: try RemoteProjects(config: context.config, http: context.http), config: context.config, instance: context.instance.id,
                    store: context.store, notifications: context.notifications, log: context.log)
    }

    public func run(job: String, context: JobContext) async throws -> RunResult {
        try await Self.jobTable.run(self, job: job, context: context)
    }

    /// Expiry purges only what the upstream stopped returning: a full read first marks every project it still
    /// has as seen (synced_at); if the upstream cannot be read, nothing is purged.
    func cleanupCache(_ context: JobContext) async throws -> RunResult {
        let ttl = Double(try context.config.int("cache_ttl_hours") ?? 24) * 3600
        let (read, seen) = try await sync(context).read(full: true, conditional: false)
        guard read.complete else { throw PluginError(.upstream, "cleanup_cache: the full read was incomplete (\(read.message ?? "")); nothing purged") }
        // Ages are measured against the read's own writes (the host's clock): what it did not see and was
        // last synced more than the lifetime before them is gone upstream.
        let n = try await purge(context.store, "projects") { record, newest in
            !seen.contains(record.key) && newest.timeIntervalSince(record.syncedAt) > ttl
        }
        return RunResult(counts: RunCounts(fetched: read.counts.fetched, pages: read.counts.pages, deleted: n),
                         message: "read \(read.counts.fetched) projects; purged \(n) cache entries the upstream no longer returns (older than \(Int(ttl / 3600)) h)")
    }

    /// Purges the records of a collection that match, read in one pass; `expired` also gets the collection's
    /// latest synced_at (the host's time of its last write), to age records on the host's clock.
    func purge(_ store: StoreService, _ collection: String, where expired: (StoreService.ListedRecord, Date) -> Bool) async throws -> Int {
        var records: [StoreService.ListedRecord] = []
        var cursor: String?
        repeat {
            let page = try await store.list(.init(collection: collection, limit: 1000, cursor: cursor))
            records += page.records
            cursor = page.nextCursor
        } while cursor != nil
        let newest = records.map(\.syncedAt).max() ?? .distantPast
        let victims = records.filter { expired($0, newest) }.map(\.key)
        var n = 0
        for chunk in stride(from: 0, to: victims.count, by: 1000) { n += try await store.purge(collection, keys: Array(victims[chunk..<min(chunk + 1000, victims.count)])) }
        return n
    }

    public func handle(route: RouteRequest, context: RouteContext) async throws -> RouteResponse {
        try await Self.routeTable.handle(self, route: route, context: context)
    }
}
