import PluginAPI

/// Enterprise WeChat external contacts: follow users, contacts, sessions.
struct WeComConnector: Connector {
    static let manifest = PluginManifest(
        name: "wecom", version: "0.1.0", kind: .connector,
        description: "WeCom external contacts: incremental, full and dry-run sync, health score, metrics and alerts.",
        config: [
            ConfigKey("corp_id", .string, required: true, description: "Corp ID"),
            ConfigKey("corp_secret", .string, required: true, secret: true, description: "Secret of the contact-sync app"),
            ConfigKey("agent_id", .string, description: "Agent ID"),
            ConfigKey("base_url", .string, default: "https://qyapi.weixin.qq.com", description: "API host"),
            ConfigKey("batch_size", .integer, default: 100, description: "User ids per batch/get_by_user call, at most 100"),
            ConfigKey("alert_channel", .string, description: "Notify instance id that receives alerts"),
            ConfigKey("retention_days", .integer, default: 90, description: "Days deleted records and history are kept"),
        ],
        jobs: [
            JobSpec("contacts_incremental", description: "Follow users, then batch/get_by_user with cursor paging; writes only changes", schedules: [DefaultSchedule("0 * * * *")]),
            JobSpec(
                "contacts_full", description: "As incremental, then marks contacts and sessions not seen as deleted (complete runs only)",
                params: [ConfigKey("force", .boolean, default: false, description: "Run even if an incremental is running")],
                schedules: [DefaultSchedule("0 2 * * *")]),
            JobSpec("cleanup", description: "Purge records deleted longer than the retention, and old history", schedules: [DefaultSchedule("0 3 * * 0")]),
        ],
        collections: [
            CollectionSpec("contacts", keyField: "external_userid", description: "External contacts, deduplicated across followers", tombstones: true),
            CollectionSpec("sessions", keyField: "external_userid:userid", description: "One per contact and follower: remark, tags, add_way, createtime", tombstones: true),
            CollectionSpec("staff", keyField: "userid", description: "Follow users"),
        ],
        routes: [
            RouteSpec("GET", "instances/{id}/status", description: "Counts by status, last runs"),
            RouteSpec("GET", "instances/{id}/health", description: "Health score 0-100 and its parts"),
            RouteSpec("GET", "instances/{id}/metrics", description: "Per-day runs, records, errors, durations for ?days=1..30"),
            RouteSpec("GET", "instances/{id}/alerts", description: "Current alerts"),
        ]
    )

    func run(job: String, context: JobContext) async throws -> RunResult {
        throw PluginError(.unavailable, "wecom job \(job): the WeCom sync logic is not built yet")
    }
}
