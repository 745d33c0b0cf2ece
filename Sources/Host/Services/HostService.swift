import PluginAPI

/// One service of the host's table (config, fetch, store, schedule, notify), as the kernel implements it.
public protocol HostService: Sendable {
    func handle(op: String, request: [UInt8], session: SessionContext) async throws -> [UInt8]
    /// The call a session stood for has ended: let go of what it held (e.g. open fetch streams).
    func sessionClosed(_ id: UInt64)
}

extension HostService {
    public func sessionClosed(_ id: UInt64) {}
}

/// The service's place is in the table, but this host has nothing behind it (yet): calls fail clearly.
struct UnavailableService: HostService {
    let name: String
    let reason: String

    func handle(op: String, request: [UInt8], session: SessionContext) async throws -> [UInt8] {
        throw PluginError(.unavailable, "\(name).\(op): \(reason)")
    }
}

/// "get": the calling instance's configuration.
public struct ConfigService: HostService {
    public init() {}
    public func handle(op: String, request: [UInt8], session: SessionContext) async throws -> [UInt8] {
        if op == "host" { return HostInfo.json.jsonBytes }
        guard op == "get" else { throw HostInfo.noSuchOperation("config", op) }
        guard let instance = session.instance else {
            throw PluginError(.invalid, "config.get outside an instance call: there is no instance configuration")
        }
        return try WireJSON.encode(instance.config)
    }
}
