import Foundation
import PluginAPI

/// A plugin as the API and `plugins list --json` show it.
public struct PluginView: Codable, Sendable, Equatable {
    public var name: String
    public var version: String?
    public var kind: String?
    public var abi: String?
    public var toolchain: String?
    /// "loaded", "failed" (did not load) or "failing" (isolated, and its worker crashed too often)
    public var status: String
    public var reason: String?
    public var notice: String?
    public var path: String
    public var description: String?
    public var config: [ConfigKey]?
    public var jobs: [JobSpec]?
    public var collections: [CollectionSpec]?
    public var routes: [RouteSpec]?
    /// The console views it declares (ABI 1.4).
    public var views: [ViewSpec]?
    /// `in-process`, or `process` (its own supervised worker process); nil for a file that did not load.
    public var isolation: String?
    /// An isolated plugin's worker: state (running, restarting, failing, stopped), pid, restarts, last crash.
    public var worker: WorkerPlugin.Snapshot?

    public init(_ e: PluginEntry) {
        name = e.name ?? (e.path as NSString).lastPathComponent
        version = e.version
        kind = e.kind?.rawValue
        abi = e.abiDescription
        toolchain = e.toolchain
        status = e.isLoaded ? "loaded" : "failed"
        reason = e.failureReason
        notice = e.notice
        path = e.path
        description = e.manifest?.description
        config = e.manifest?.config
        jobs = e.manifest?.jobs
        collections = e.manifest?.collections
        routes = e.manifest?.routes
        views = e.manifest?.views
        isolation = e.handle?.isolation
        worker = e.handle?.worker?.snapshot
        if let w = worker, w.state == "failing" {
            status = "failing"
            reason = w.failing_reason
        }
    }
}
