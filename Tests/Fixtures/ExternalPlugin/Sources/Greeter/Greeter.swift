import PluginAPI

/// Fetches one URL through the host's HTTP service and reports what it saw.
struct Greeter: Connector {
    static let manifest = PluginManifest(
        name: "greeter", version: "2.0.0", kind: .connector,
        description: "A third-party plugin built in its own package.",
        config: [ConfigKey("url", .string, required: true, description: "What to fetch")],
        jobs: [JobSpec("greet", description: "GET the url", schedules: [DefaultSchedule("@hourly")])],
        collections: [CollectionSpec("greetings", keyField: "url", description: "What was fetched")]
    )

    func run(job: String, context: JobContext) async throws -> RunResult {
        let url = try context.config.requiredString("url")
        context.log.info("greeter fetching \(url)")
        let response = try await context.http.get(url)
        return RunResult(
            counts: RunCounts(fetched: 1, pages: 1),
            message: "greeter got HTTP \(response.status) with \(response.body.count) bytes",
            details: ["status": .int(Int64(response.status))])
    }
}

@_cdecl("synchost_plugin_entry_v1")
public func synchostPluginEntry(_ host: UnsafePointer<sh_host_api>?, _ abi: UInt32) -> UnsafePointer<sh_plugin_descriptor>? {
    PluginExport.connector(Greeter.self, host: host, abi: abi)
}
