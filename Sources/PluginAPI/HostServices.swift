import Foundation

/// The host's services, bound to one call (its session): everything a plugin needs besides its own
/// knowledge of the upstream. Obtained from a `JobContext`, `InstanceContext` or `RouteContext`.
public struct HostServices: Sendable {
    public let connection: HostConnection
    public let session: UInt64

    public init(connection: HostConnection, session: UInt64) {
        self.connection = connection
        self.session = session
    }

    public var log: PluginLog { PluginLog(connection: connection, session: session) }
    public var http: HTTPService { HTTPService(services: self) }
    public var store: StoreService { StoreService(services: self) }
    public var scheduler: SchedulerService { SchedulerService(services: self) }
    public var notifications: NotifyService { NotifyService(services: self) }

    /// JSON request, JSON response.
    func call<Request: Encodable, Response: Decodable>(
        _ service: HostConnection.Service, _ op: String, _ request: Request, as: Response.Type
    ) async throws -> Response {
        let bytes = try await connection.call(service, session: session, op: op, request: try WireJSON.encode(request))
        return try WireJSON.decode(Response.self, from: bytes)
    }

    /// The calling instance's configuration, fresh from the host.
    public func config() async throws -> [String: JSONValue] {
        try await call(.config, "get", Empty(), as: [String: JSONValue].self)
    }
}

/// Logging through the host: levels, one line per call; the host masks secrets before writing.
public struct PluginLog: Sendable {
    let connection: HostConnection
    let session: UInt64

    public func callAsFunction(_ level: LogLevel, _ message: String) { connection.log(session: session, level: level, message) }
    public func trace(_ message: String) { self(.trace, message) }
    public func debug(_ message: String) { self(.debug, message) }
    public func info(_ message: String) { self(.info, message) }
    public func notice(_ message: String) { self(.notice, message) }
    public func warning(_ message: String) { self(.warning, message) }
    public func error(_ message: String) { self(.error, message) }
}
