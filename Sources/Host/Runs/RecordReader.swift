import Foundation
import PluginAPI

/// Reads one record under a cache policy, the one place where "cache-first, live when asked" lives.
public struct RecordReader: Sendable {
    public enum Policy: String, Sendable, CaseIterable {
        /// The store only (default).
        case cache
        /// Fetch through the plugin, store it, return it.
        case live
        /// Live only when the store has nothing.
        case ifMissing = "if-missing"
        /// Live, but when the upstream fails serve the store's copy flagged stale.
        case staleOK = "stale-ok"
    }

    public struct Result: Sendable {
        public var record: StoredRecord?
        /// "cache" or "live"
        public var source: String
        public var stale: Bool
        public var lastSyncedAt: Date?
        /// Why a stale copy was served.
        public var upstreamError: String?
    }

    public let store: any HostDatabase

    public let clock: HostClock

    public init(store: any HostDatabase, clock: @escaping HostClock = HostClocks.system) {
        self.store = store
        self.clock = clock
    }

    /// The plugin declares the collection (or the read is refused as not found).
    static func requireCollection(_ collection: String, of plugin: PluginHandle) throws {
        guard plugin.manifest.collections.contains(where: { $0.name == collection }) else {
            throw HostError.notFound("\(plugin.name) has no collection \(collection.debugDescription)")
        }
    }

    public func read(instance: InstanceInfo, plugin: PluginHandle, collection: String, key: String, policy: Policy) async throws -> Result {
        try Self.requireCollection(collection, of: plugin)
        // The instance is given (it need not be stored): read by record, not through the instance row.
        func cached() async throws -> Result {
            Result(record: try await store.record(instance: instance.id, collection: collection, key: key), source: "cache", stale: false,
                   lastSyncedAt: try await store.lastSyncedAt(instance: instance.id, collection: collection))
        }
        switch policy {
        case .cache:
            return try await cached()
        case .ifMissing:
            let c = try await cached()
            return c.record != nil ? c : try await liveOrRefuse(instance: instance, plugin: plugin, collection: collection, key: key)
        case .live:
            return try await liveOrRefuse(instance: instance, plugin: plugin, collection: collection, key: key)
        case .staleOK:
            do {
                return try await live(instance: instance, plugin: plugin, collection: collection, key: key)
            } catch let e as PluginError where [.upstream, .cancelled, .unavailable].contains(e.kind) {
                var c = try await cached()
                c.stale = true
                c.upstreamError = e.message
                return c
            }
        }
    }

    public struct ListResult: Sendable {
        public var page: RecordPage
        /// Lists are always served from the store.
        public var source: String
        public var lastSyncedAt: Date?
    }

    /// A page of a collection, with when it was last synced.
    public func list(instance: InstanceInfo, plugin: PluginHandle, collection: String, query: RecordQuery) async throws -> ListResult {
        try Self.requireCollection(collection, of: plugin)
        return ListResult(page: try await store.records(instance: instance.id, collection: collection, query: query), source: "cache",
                          lastSyncedAt: try await store.lastSyncedAt(instance: instance.id, collection: collection))
    }

    /// A plugin that cannot read one record live answers "unavailable": for the caller that is a bad request
    /// (ask the cache), not a server failure.
    func liveOrRefuse(instance: InstanceInfo, plugin: PluginHandle, collection: String, key: String) async throws -> Result {
        do {
            return try await live(instance: instance, plugin: plugin, collection: collection, key: key)
        } catch let e as PluginError where e.kind == .unavailable {
            throw HostError.invalid("\(e.message); read it with cache=cache (or stale-ok)")
        }
    }

    func live(instance: InstanceInfo, plugin: PluginHandle, collection: String, key: String) async throws -> Result {
        let secrets = ConfigSchema.secretValues(instance.config, keys: plugin.manifest.config)
        let fetched = try await plugin.invoke(
            PluginOperation.fetchRecord, RecordFetchRequest(instance: instance, collection: collection, key: key),
            as: RecordFetchResult.self, context: SessionContext(plugin: plugin.name, instance: instance, secrets: secrets), timeout: .seconds(120))
        guard let record = fetched.record else {
            throw HostError.notFound("\(plugin.name): the upstream has no \(collection) record \(key.debugDescription)")
        }
        let now = clock()
        _ = try await store.upsert(UpsertPage(collection: collection, records: [(record.key, record.data.jsonBytes)]), instance: instance.id, runID: nil, now: now)
        return Result(record: try await store.record(instance: instance.id, collection: collection, key: record.key), source: "live", stale: false, lastSyncedAt: now)
    }
}
