import PluginAPI

/// What this host offers its plugins, answered by the config service's `host` operation (ABI 1.1): the ABI
/// version, the host's version, each service's operations and each plugin operation the host may call, with
/// the minor version that added it, and the limits a plugin should stay within. A plugin built for a newer
/// minor than a host reads this to leave out what the host lacks.
enum HostInfo {
    static var abi: String { "\(SH_ABI_MAJOR).\(SH_ABI_MINOR)" }

    /// Service → operation → the ABI version that added it (synchost_plugin.h lists the same).
    static let services: [String: [String: String]] = [
        "config": ["get": "1.0", "host": "1.1"],
        "fetch": ["request": "1.0", "open": "1.2", "read": "1.2", "close": "1.2"],
        "store": [
            "upsert": "1.0", "get": "1.0", "cursor.get": "1.0", "cursor.set": "1.0", "state.get": "1.0", "state.set": "1.0",
            "list": "1.1", "aggregate": "1.1", "purge_keys": "1.1", "purge_deleted": "1.1",
        ],
        "schedule": ["enqueue": "1.0", "runs": "1.1", "progress": "1.4", "alerts": "1.6"],
        "notify": ["send": "1.0"],
    ]

    /// Operations the host may invoke on a plugin, with the version that added each.
    static let operations: [String: String] = [
        "run": "1.0", "instance.created": "1.0", "config.validate": "1.0", "record.fetch": "1.0", "send": "1.0", "route": "1.1",
    ]

    /// The answer to an operation a service does not have here (the router checks every call against `services`).
    static func noSuchOperation(_ service: String, _ op: String) -> PluginError {
        PluginError(.unavailable, "\(service): this host (ABI \(abi)) has no operation \(op.debugDescription)")
    }

    static var json: JSONValue {
        .object([
            "abi": .string(abi),
            "host_version": .string(SynchostVersion.current),
            "services": .object(services.mapValues { ops in .object(ops.mapValues(JSONValue.string)) }),
            "operations": .object(operations.mapValues(JSONValue.string)),
            "limits": [
                "fetch_response_bytes": .int(Int64(FetchService.maxBodyBytes)),
                "fetch_read_bytes": .int(Int64(FetchStreams.maxReadBytes)),
                "route_request_body_bytes": .int(Int64(RequestBody.limit)),
                "store_list_limit": .int(Int64(RecordQuery.maxLimit)),
                "store_purge_keys": .int(Int64(StoreHostService.maxPurgeKeys)),
                "record_key_bytes": .int(Int64(UpsertPage.maxKeyBytes)),
            ],
        ])
    }
}
