import Foundation
import PluginAPI

/// VOS3000 softswitch: one instance per node; customers, phone status and CDRs.
public struct VOSConnector: Connector {
    public init() {}

    static let jobTable = JobTable<VOSConnector>([
        Job(JobSpec(
            "customers", description: "GetAllCustomers, then GetCustomer details in chunks of 100",
            params: [ConfigKey("initial", .boolean, description: "First sync of a new node: queue the CDR backfill when it succeeds")],
            schedules: [DefaultSchedule("*/10 * * * *", note: "客户数据同步")])) { _, context in
            try await CustomerSync(node: try VOSNode(config: context.config), context: context).run()
        },
        Job(JobSpec("phones", description: "GetAllPhoneOnline, then GetPhoneOnline in chunks of 200; absent phones are offline",
                    schedules: [DefaultSchedule("*/5 * * * *", note: "话机状态同步")])) { _, context in
            try await PhoneSync(node: try VOSNode(config: context.config), context: context).run()
        },
        Job(JobSpec(
            "cdrs", description: "GetCdr per account and day, paced",
            params: [
                ConfigKey("date", .string, description: "yyyy-MM-dd, default yesterday in the node's zone"),
                ConfigKey("to", .string, description: "Last day of a range starting at date"),
            ],
            schedules: [DefaultSchedule("30 1 * * *", note: "话单数据同步")])) { _, context in
            try await CDRSync(node: try VOSNode(config: context.config), context: context).run()
        },
    ])

    static let routeTable = RouteTable<VOSConnector>([
        Route(RouteSpec("GET", "instances/{id}/cdr-stats", description: "CDR count, fee and holdTime totals per day for ?from=&to= (yyyy-MM-dd, default the last 7 days)")) {
            _, route, context in
            try await CDRStats(node: try VOSNode(config: try context.requireInstance().config), context: context).answer(route.query)
        },
    ])

    public static let manifest = PluginManifest(
        name: "vos", version: "0.2.0", kind: .connector,
        description: "VOS3000 softswitch nodes: customers, phone online status and CDRs (deduplicated by flowNo or content hash).",
        config: [
            ConfigKey("base_url", .string, required: true, description: "Node URL up to the port, e.g. http://10.0.0.5:7391"),
            ConfigKey("timeout_ms", .integer, default: 30_000, description: "Per-request timeout (GetCdr is slow on busy nodes)"),
            ConfigKey("append_jsp", .boolean, default: false, description: "Call /external/server/GetCdr.jsp instead of /external/server/GetCdr"),
            ConfigKey("timezone", .string, default: "Asia/Shanghai", description: "The node's time zone, for yyyyMMdd dates"),
            ConfigKey("cdr_pacing_ms", .integer, default: 2_000, description: "Pause between per-account GetCdr requests (\"避免请求过于频繁导致VOS卡死\")"),
            ConfigKey("backfill_days", .integer, default: 7, description: "Days of CDRs the initial sync of a new node fetches (0 = none)"),
            ConfigKey("backfill_spacing_ms", .integer, default: 30_000, description: "Delay between the initial sync's per-day CDR jobs"),
            ConfigKey("accounts", .stringList, description: "Only these accounts (default: all; a filtered customers sync never marks others deleted)"),
        ],
        jobs: jobTable.specs,
        collections: [
            CollectionSpec("customers", keyField: "account", description: "Accounts with balance, limit, lock state, agent, name", tombstones: true, refreshJob: "customers",
                           retention: RetentionSpec(tombstoneDays: 90)),
            CollectionSpec("phones", keyField: "e164", description: "Phones with status online/offline, register time, remote IP", refreshJob: "phones"),
            CollectionSpec("cdrs", keyField: "flowNo", description: "Call detail records, keyed by flowNo (content hash when missing), with their date"),
        ],
        routes: routeTable.specs,
        views: views
    )

    /// The legacy customer page (node, 实时数据/缓存数据, 刷新数据), phones, CDRs and CDRs per day.
    static let views: [ViewSpec] = {
        typealias T = LocalizedText
        let dateInput = ConfigKey("date", .string, required: true, description: "yyyy-MM-dd (the node's zone)")
        return [
            ViewSpec("customers", .table, title: T("客户", "Customers"), collection: "customers", columns: [
                ViewColumn("account", T("账户", "Account")),
                ViewColumn("name", T("名称", "Name")),
                ViewColumn("money", T("余额", "Balance"), format: .money),
                ViewColumn("limitMoney", T("透支额度", "Credit limit"), format: .money),
                ViewColumn("todayConsumption", T("今日消费", "Spent today"), format: .money),
                ViewColumn("lockType", T("锁定", "Locked"), format: .bool),
                ViewColumn("agentAccount", T("代理商", "Agent")),
                ViewColumn("@synced_at", T("同步时间", "Synced at"), format: .datetime),
            ], filters: ["agentAccount", "lockType"], actions: [
                ViewAction("live", .live, label: T("刷新数据", "Refresh data")),
                ViewAction("sync_customers", .job, label: T("立即同步", "Sync now"), target: "customers"),
            ]),
            ViewSpec("cdr_trend", .chart, title: T("每日话单", "CDRs per day"), route: "instances/{id}/cdr-stats", rows: "days",
                     chart: ChartSpec(.bar, x: "date", series: [ViewColumn("cdrs", T("话单数", "CDRs"), format: .number)], days: 7),
                     actions: [ViewAction("sync_cdrs", .job, label: T("同步某日话单", "Sync a day's CDRs"), target: "cdrs", inputs: [dateInput])]),
            ViewSpec("phones", .table, title: T("话机", "Phones"), collection: "phones", columns: [
                ViewColumn("@key", T("号码", "E164")),
                ViewColumn("status", T("状态", "Status"), format: .status),
                ViewColumn("remoteIp", T("远端 IP", "Remote IP")),
                ViewColumn("currentCall", T("当前通话", "Calls now"), format: .number),
                ViewColumn("@synced_at", T("同步时间", "Synced at"), format: .datetime),
            ], filters: ["status"], actions: [
                ViewAction("live", .live, label: T("刷新数据", "Refresh data")),
            ]),
            ViewSpec("cdrs", .table, title: T("话单", "CDRs"), collection: "cdrs", columns: [
                ViewColumn("date", T("日期", "Date"), format: .date),
                ViewColumn("account", T("账户", "Account")),
                ViewColumn("callerE164", T("主叫", "Caller")),
                ViewColumn("calleeE164", T("被叫", "Callee")),
                ViewColumn("holdTime", T("时长(秒)", "Seconds"), format: .number),
                ViewColumn("fee", T("费用", "Fee"), format: .money),
            ], filters: ["date", "account"], order: "-synced_at"),
        ]
    }()

    public func validate(config: [String: JSONValue]) throws {
        _ = try VOSNode(config: config)
    }

    public func run(job: String, context: JobContext) async throws -> RunResult {
        try await Self.jobTable.run(self, job: job, context: context)
    }

    /// A new node: sync its customers now; their success queues the CDR backfill.
    public func onInstanceCreated(context: InstanceContext) async throws {
        try await context.scheduler.enqueue(job: "customers", params: ["initial": true], trigger: "initial")
    }

    public func fetchRecord(collection: String, key: String, context: InstanceContext) async throws -> Record? {
        let node = try VOSNode(config: context.config)
        switch collection {
        case "customers":
            return try await CustomerSync.fetch(account: key, node: node, http: context.http)
        case "phones":
            if let online = try await PhoneSync.fetch(e164: key, node: node, http: context.http) { return online }
            // Not online: the phone we know, now offline.
            guard var o = try await context.store.get("phones", key: key)?.data.objectValue else { return nil }
            o["status"] = "offline"
            o["currentCall"] = 0
            return Record(key: key, data: .object(o))
        default:
            throw PluginError(.unavailable, "vos cannot read a single \(collection) record live")
        }
    }

    public func handle(route: RouteRequest, context: RouteContext) async throws -> RouteResponse {
        try await Self.routeTable.handle(self, route: route, context: context)
    }
}
