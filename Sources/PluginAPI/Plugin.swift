import Foundation

/// What every plugin type provides. Implement `Connector` or `Notifier`, then export it with one line:
///
///     @_cdecl("synchost_plugin_entry_v1")
///     public func entry(_ host: UnsafePointer<sh_host_api>?, _ abi: UInt32) -> UnsafePointer<sh_plugin_descriptor>? {
///         PluginExport.connector(MyConnector.self, host: host, abi: abi)
///     }
public protocol Plugin: Sendable {
    static var manifest: PluginManifest { get }
    init()
    /// Checks an instance's configuration beyond the schema the host already enforced (types, required
    /// keys). Throw `PluginError(.invalid, ...)` naming the key.
    func validate(config: [String: JSONValue]) throws
    /// Serves one of the routes the manifest declares.
    func handle(route: RouteRequest, context: RouteContext) async throws -> RouteResponse
}

extension Plugin {
    public func validate(config: [String: JSONValue]) throws {}
    public func handle(route: RouteRequest, context: RouteContext) async throws -> RouteResponse {
        throw PluginError(.notFound, "\(Self.manifest.name) has no route \(route.method) \(route.route)")
    }
}

/// Syncs an upstream into the host's collections.
public protocol Connector: Plugin {
    /// Runs one job of the manifest. Throw to fail the run; return `complete: false` when only part of the
    /// data was seen.
    func run(job: String, context: JobContext) async throws -> RunResult
    /// Called once when an instance is created (e.g. VOS queues its initial sync).
    func onInstanceCreated(context: InstanceContext) async throws
    /// A live read of one record (cache policies `live`, `if-missing`, `stale-ok`); nil = the upstream has
    /// no such record.
    func fetchRecord(collection: String, key: String, context: InstanceContext) async throws -> Record?
}

extension Connector {
    public func onInstanceCreated(context: InstanceContext) async throws {}
    public func fetchRecord(collection: String, key: String, context: InstanceContext) async throws -> Record? {
        throw PluginError(.unavailable, "\(Self.manifest.name) cannot fetch a single \(collection) record live")
    }
}

/// Delivers messages (a channel per instance).
public protocol Notifier: Plugin {
    func send(_ message: OutgoingMessage, context: InstanceContext) async throws -> DeliveryReceipt
}

/// Everything a job sees: its run, its instance, its parameters and the host's services.
public struct JobContext: Sendable {
    public let request: RunRequest
    public let host: HostServices

    public var runID: String { request.runID }
    public var job: String { request.job }
    public var instance: InstanceInfo { request.instance }
    public var config: [String: JSONValue] { request.instance.config }
    public var params: [String: JSONValue] { request.params }
    /// Fetch everything, write nothing: the store reports what would change without changing it.
    public var dryRun: Bool { request.dryRun }
    /// The host's clock at the call: use it for "today", ages and expiries, so a host (or the kit's fake host)
    /// that moves its clock moves the plugin's too.
    public var now: Date { request.now ?? Date() }
    public var log: PluginLog { host.log }
    public var http: HTTPService { host.http }
    public var store: StoreService { host.store }
    public var scheduler: SchedulerService { host.scheduler }
    public var notifications: NotifyService { host.notifications }
}

/// An instance-level call outside a job (instance created, live record fetch, delivery).
public struct InstanceContext: Sendable {
    public let instance: InstanceInfo
    public let host: HostServices

    public var config: [String: JSONValue] { instance.config }
    public var log: PluginLog { host.log }
    public var http: HTTPService { host.http }
    public var store: StoreService { host.store }
    public var scheduler: SchedulerService { host.scheduler }
    public var notifications: NotifyService { host.notifications }
}

/// A call to one of the plugin's routes. When the path names an instance (`{id}`), the host resolved it
/// and the services act for it (its store, its config).
public struct RouteContext: Sendable {
    public let host: HostServices
    public let instance: InstanceInfo?
    /// The host's clock at the call (see `JobContext.now`).
    public let now: Date

    public init(host: HostServices, instance: InstanceInfo? = nil, now: Date = Date()) {
        self.host = host
        self.instance = instance
        self.now = now
    }

    public var log: PluginLog { host.log }
    public var http: HTTPService { host.http }
    public var store: StoreService { host.store }
    public var scheduler: SchedulerService { host.scheduler }
    public var notifications: NotifyService { host.notifications }

    /// The route's instance, or a clear error for a route declared without `{id}`.
    public func requireInstance() throws -> InstanceContext {
        guard let instance else { throw PluginError(.invalid, "this route needs an instance ({id} in its path)") }
        return InstanceContext(instance: instance, host: host)
    }
}

extension [String: JSONValue] {
    /// A configuration or parameter value as a string, with a clear error when it has another type.
    public func string(_ key: String) throws -> String? {
        guard let v = self[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw PluginError(.invalid, "\(key): expected string, got \(v.typeName)") }
        return s
    }

    public func int(_ key: String) throws -> Int? {
        guard let v = self[key], !v.isNull else { return nil }
        guard let i = v.intValue else { throw PluginError(.invalid, "\(key): expected integer, got \(v.typeName)") }
        return Int(i)
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let v = self[key], !v.isNull else { return nil }
        guard let b = v.boolValue else { throw PluginError(.invalid, "\(key): expected boolean, got \(v.typeName)") }
        return b
    }

    public func requiredString(_ key: String) throws -> String {
        guard let s = try string(key), !s.isEmpty else { throw PluginError(.config, "\(key) is required") }
        return s
    }
}
