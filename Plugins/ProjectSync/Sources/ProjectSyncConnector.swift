import PluginAPI

/// Remote project service: project cache, change detection and notifications, access tokens.
struct ProjectSyncConnector: Connector {
    static let manifest = PluginManifest(
        name: "projectsync", version: "0.1.0", kind: .connector,
        description: "Remote project cache with change detection, status-change notifications and per-project access tokens.",
        config: [
            ConfigKey("base_url", .string, required: true, description: "Remote project service URL"),
            ConfigKey("api_token", .string, required: true, secret: true, description: "API token of the remote service"),
            ConfigKey("project_types", .stringList, description: "Project types to sync (default: all)"),
            ConfigKey("cache_ttl_hours", .integer, default: 24, description: "Cache lifetime"),
            ConfigKey("notify_on", .stringList, default: ["status", "stage"], description: "Changes that notify: status, stage, progress"),
            ConfigKey("notify_channels", .stringList, description: "Notify instance ids"),
            ConfigKey("template", .string, description: "Message template"),
            ConfigKey("notify_first_import", .boolean, default: false, description: "Notify for projects seen the first time"),
            ConfigKey("timezone", .string, default: "Asia/Shanghai", description: "Zone of times shown in messages"),
        ],
        jobs: [
            JobSpec("sync", description: "Incremental by updated_since with ETag; tombstones; change notifications", schedules: [DefaultSchedule("*/15 * * * *")]),
            JobSpec("cleanup_cache", description: "Delete expired cache entries", schedules: [DefaultSchedule("0 2 * * *")]),
            JobSpec("cleanup_tokens", description: "Delete expired access tokens", schedules: [DefaultSchedule("0 3 * * *")]),
        ],
        collections: [
            CollectionSpec("projects", keyField: "id", description: "Projects with status, stage, progress", tombstones: true),
            CollectionSpec("access_tokens", keyField: "jti", description: "Issued access tokens (revocation state)"),
        ],
        routes: [
            RouteSpec("GET", "projects/{project}/verify-access", description: "Check an access token (?token=)", isPublic: true),
            RouteSpec("GET", "projects/{project}", description: "A project by access token (?token=, force_sync=true)", isPublic: true),
            RouteSpec("POST", "instances/{id}/tokens", description: "Create an access token for a project"),
            RouteSpec("GET", "instances/{id}/tokens", description: "List access tokens"),
            RouteSpec("DELETE", "instances/{id}/tokens/{jti}", description: "Revoke an access token"),
            RouteSpec("GET", "instances/{id}/history", description: "Sync history"),
        ]
    )

    func run(job: String, context: JobContext) async throws -> RunResult {
        throw PluginError(.unavailable, "projectsync job \(job): the ProjectSync logic is not built yet")
    }
}
