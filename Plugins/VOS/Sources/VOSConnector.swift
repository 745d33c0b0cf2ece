import PluginAPI

/// VOS3000 softswitch: one instance per node; customers, phone status and CDRs.
struct VOSConnector: Connector {
    static let manifest = PluginManifest(
        name: "vos", version: "0.1.0", kind: .connector,
        description: "VOS3000 softswitch nodes: customers, phone online status and CDRs (deduplicated by flowNo or content hash).",
        config: [
            ConfigKey("base_url", .string, required: true, description: "Node URL up to the port, e.g. http://10.0.0.5:7391"),
            ConfigKey("timeout_ms", .integer, default: 30_000, description: "Per-request timeout"),
            ConfigKey("append_jsp", .boolean, default: false, description: "Append .jsp to operation paths (/external/server/GetCdr.jsp)"),
            ConfigKey("timezone", .string, default: "Asia/Shanghai", description: "The node's time zone, for yyyyMMdd dates"),
            ConfigKey("cdr_pacing_ms", .integer, default: 2_000, description: "Pause between per-account GetCdr requests"),
            ConfigKey("backfill_days", .integer, default: 7, description: "Days of CDRs the initial sync of a new node fetches"),
            ConfigKey("backfill_spacing_ms", .integer, default: 30_000, description: "Delay between the initial sync's per-day CDR jobs"),
            ConfigKey("accounts", .stringList, description: "Only these accounts (default: all)"),
        ],
        jobs: [
            JobSpec("customers", description: "GetAllCustomers, then GetCustomer details in chunks", schedules: [DefaultSchedule("*/10 * * * *")]),
            JobSpec("phones", description: "GetAllPhoneOnline, then GetPhoneOnline in chunks; absent phones are offline", schedules: [DefaultSchedule("*/5 * * * *")]),
            JobSpec(
                "cdrs", description: "GetCdr per account and day, paced",
                params: [
                    ConfigKey("date", .string, description: "yyyy-MM-dd, default yesterday in the node's zone"),
                    ConfigKey("to", .string, description: "Last day of a range starting at date"),
                ],
                schedules: [DefaultSchedule("30 1 * * *")]),
        ],
        collections: [
            CollectionSpec("customers", keyField: "account", description: "Accounts with balance, limit, lock state, agent, name"),
            CollectionSpec("phones", keyField: "e164", description: "Phones with online/offline, register time, remote IP"),
            CollectionSpec("cdrs", keyField: "flowNo", description: "Call detail records, keyed by flowNo (content hash when missing)"),
        ],
        routes: [
            RouteSpec("GET", "instances/{id}/cdr-stats", description: "CDR count, fee and holdTime totals per day for ?from=&to="),
        ]
    )

    func run(job: String, context: JobContext) async throws -> RunResult {
        throw PluginError(.unavailable, "vos job \(job): the VOS sync logic is not built yet")
    }
}
