import Foundation
import Hummingbird
import PluginAPI

/// `/api/v1/instances/{id}/collections...`: what a plugin synced, with `last_synced_at` and `source` on
/// every response.
struct DataRoutes {
    let store: any HostDatabase
    let registry: PluginRegistry
    let manager: InstanceManager
    /// Cached-record answers kept until the next commit.
    let memo = RecordResponseMemo()

    struct RecordView: Encodable {
        var key: String
        var data: JSONValue
        var hash: String
        var first_seen_at: String?
        var synced_at: String?
        var changed_at: String?
        var deleted_at: String?

        init(_ r: StoredRecord) {
            key = r.key
            data = r.json
            hash = r.hash
            first_seen_at = ISOTime.string(r.firstSeenAt)
            synced_at = ISOTime.string(r.syncedAt)
            changed_at = ISOTime.string(r.changedAt)
            deleted_at = ISOTime.string(r.deletedAt)
        }
    }

    struct CollectionView: Encodable {
        var name: String
        var key_field: String
        var description: String
        var records: Int
        var deleted: Int
        var last_synced_at: String?
    }

    struct CollectionsResponse: Encodable {
        var collections: [CollectionView]
        var source = "cache"
    }

    struct ListResponse: Encodable {
        var records: [RecordView]
        var next_cursor: String?
        var last_synced_at: String?
        var source: String
        /// With `cache=live`: the refresh run, and why the cache is served when it failed.
        var refresh_run: String?
        var stale: Bool?
        var upstream_error: String?
    }

    struct OneResponse: Encodable {
        var record: RecordView
        var last_synced_at: String?
        var source: String
        var stale: Bool
        var upstream_error: String?
    }

    /// Query parameters that are not filters.
    static let reserved: Set<String> = ["limit", "cursor", "order", "desc", "from", "to", "include_deleted", "cache"]
    static let liveTimeout: Duration = .seconds(120)

    /// A list read with `cache=live` (the legacy "refresh data" button): runs the collection's refresh job
    /// through the run queue (overlap rules apply) and waits for it.
    func refresh(instance: InstanceRecord, plugin: PluginHandle, collection: String) async throws -> RunRecord {
        guard let spec = plugin.manifest.collections.first(where: { $0.name == collection }) else {
            throw HostError.notFound("\(plugin.name) has no collection \(collection.debugDescription)")
        }
        guard let job = spec.refreshJob else {
            throw HostError.invalid("\(plugin.name) cannot refresh \(collection) live (no refresh job); read it without cache=live")
        }
        let queued = try await manager.enqueue(instance: instance.id, job: job, params: [:], dryRun: false, trigger: "live-read")
        let run = try await manager.waitForRun(queued.id, timeout: Self.liveTimeout)
        if run.status.isFinal { return run }
        throw HostError.unavailable("the refresh run \(queued.id) has not finished within \(Self.liveTimeout); it goes on in the background")
    }

    func add(to api: RouterGroup<AdminRequestContext>) {
        api.get("instances/:id/collections") { _, context -> Response in
            let (instance, plugin) = try await resolve(context)
            let counts = Dictionary(uniqueKeysWithValues: try await store.collections(instance: instance.id).map { ($0.name, $0) })
            return try .json(CollectionsResponse(collections: plugin.manifest.collections.map { c in
                CollectionView(name: c.name, key_field: c.keyField, description: c.description, records: counts[c.name]?.records ?? 0,
                               deleted: counts[c.name]?.deleted ?? 0, last_synced_at: ISOTime.string(counts[c.name]?.lastSyncedAt))
            }))
        }
        api.get("instances/:id/collections/:collection") { request, context -> Response in
            let p = request.uri.queryParameters
            var q = RecordQuery()
            if let v = p.get("limit") {
                guard let n = Int(v), (1...1000).contains(n) else { throw HostError.invalid("limit must be 1-1000") }
                q.limit = n
            }
            q.cursor = p.get("cursor")
            if let v = p.get("order") {
                guard let o = RecordQuery.Order(rawValue: v) else { throw HostError.invalid("order must be key, synced_at or changed_at") }
                q.order = o
            }
            q.descending = p.get("desc") == "true"
            q.keyFrom = p.get("from")
            q.keyTo = p.get("to")
            q.includeDeleted = p.get("include_deleted") == "true"
            for (name, value) in p where !Self.reserved.contains(String(name)) {
                q.filters.append((String(name), String(value)))
            }
            let collection = try context.parameters.require("collection")
            let mode = p.get("cache") ?? "cache"
            guard mode == "cache" || mode == "live" else { throw HostError.invalid("cache must be cache or live for a list") }
            if mode == "cache" { return try await cachedList(try context.parameters.require("id"), collection, q) }
            let (instance, plugin) = try await resolve(context)
            guard instance.enabled else {
                let result = try await RecordReader(store: store, clock: manager.clock).list(instance: instance.info, plugin: plugin, collection: collection, query: q)
                let body = RecordJSON.list(result.page.records, nextCursor: result.page.nextCursor, lastSyncedAt: result.lastSyncedAt, source: "cache",
                                           stale: true, upstreamError: InstanceManager.disabledReason(instance.id))
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
            }
            let refreshed = try await refresh(instance: instance, plugin: plugin, collection: collection)
            let result = try await RecordReader(store: store, clock: manager.clock).list(instance: instance.info, plugin: plugin, collection: collection, query: q)
            let ok = refreshed.status == .succeeded
            let body = RecordJSON.list(result.page.records, nextCursor: result.page.nextCursor, lastSyncedAt: result.lastSyncedAt,
                                       source: ok ? "live" : "cache", refreshRun: refreshed.id, stale: !ok,
                                       upstreamError: ok ? nil : refreshed.error ?? refreshed.message ?? "refresh run ended \(refreshed.status.rawValue)")
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        api.get("instances/:id/collections/:collection/:key", use: readRecord)
    }

    /// `GET instances/{id}/collections/{collection}/{key}`: one record (cache policy). Reached through the router's
    /// trie and through `AdminResponder`'s hot path, with the same parameters.
    func readRecord(_ request: Request, context: AdminRequestContext) async throws -> Response {
        let policyName = request.uri.queryParameters.get("cache") ?? "cache"
        guard let policy = RecordReader.Policy(rawValue: policyName) else {
            throw HostError.invalid("cache must be one of \(RecordReader.Policy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let collection = try context.parameters.require("collection")
        let key = try context.parameters.require("key")
        if policy == .cache { return try await cachedRead(try context.parameters.require("id"), collection, key) }
        let (instance, plugin) = try await resolve(context)
        // A disabled instance reads nothing live: the cache answers, and says why.
        var r = try await RecordReader(store: store, clock: manager.clock).read(instance: instance.info, plugin: plugin, collection: collection, key: key,
                                                                           policy: instance.enabled ? policy : .cache)
        if !instance.enabled {
            r.stale = true
            r.upstreamError = InstanceManager.disabledReason(instance.id)
        }
        guard let record = r.record else {
            throw HostError.notFound("no \(collection) record \(key.debugDescription) in the cache (try ?cache=live)")
        }
        return try .json(OneResponse(record: RecordView(record), last_synced_at: ISOTime.string(r.lastSyncedAt), source: r.source,
                                     stale: r.stale, upstream_error: r.upstreamError))
    }

    /// A page from the cache: instance, records and last sync read together, the stored bytes written out.
    func cachedList(_ id: String, _ collection: String, _ query: RecordQuery) async throws -> Response {
        let read = try await store.cachedList(instance: id, collection: collection, query: query)
        try checkCollection(plugin: read?.plugin, instance: id, collection)
        guard let read else { throw HostError.notFound("no instance \(id.debugDescription)") }
        let body = RecordJSON.list(read.page.records, nextCursor: read.page.nextCursor, lastSyncedAt: read.lastSyncedAt, source: "cache")
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The hot path: the answer kept from a read since which nothing was committed (`RecordResponseMemo`), else one
    /// statement, the stored bytes written straight into the response.
    func cachedRead(_ id: String, _ collection: String, _ key: String) async throws -> Response {
        let stamp = store.commitStamp()
        let memoKey = stamp.map { _ in RecordResponseMemo.key(instance: id, collection: collection, key: key) }
        if let stamp, let memoKey, let kept = memo.answer(memoKey, at: stamp), registry.plugin(named: kept.plugin) === kept.handle {
            return Response(status: .ok, headers: Self.jsonHeaders, body: .init(byteBuffer: kept.body))
        }
        let read = try await store.cachedRecord(instance: id, collection: collection, key: key)
        let handle = try checkCollection(plugin: read?.plugin, instance: id, collection)
        guard let read, let record = read.record else {
            throw HostError.notFound("no \(collection) record \(key.debugDescription) in the cache (try ?cache=live)")
        }
        let body = ByteBuffer(bytes: RecordJSON.one(record, lastSyncedAt: read.lastSyncedAt, source: "cache", stale: false))
        if let stamp, let memoKey, store.commitStamp() == stamp {
            memo.keep(.init(plugin: read.plugin, handle: handle, body: body), for: memoKey, at: stamp)
        }
        return Response(status: .ok, headers: Self.jsonHeaders, body: .init(byteBuffer: body))
    }

    static let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    /// The instance exists (its plugin is known), the plugin is loaded and declares the collection; the plugin.
    @discardableResult
    func checkCollection(plugin name: String?, instance id: String, _ collection: String) throws -> PluginHandle {
        guard let name else { throw HostError.notFound("no instance \(id.debugDescription)") }
        guard let plugin = registry.plugin(named: name) else { throw HostError.unavailable("plugin \(name) of instance \(id) is not loaded") }
        try RecordReader.requireCollection(collection, of: plugin)
        return plugin
    }

    func resolve(_ context: AdminRequestContext) async throws -> (InstanceRecord, PluginHandle) {
        let id = try context.parameters.require("id")
        guard let instance = try await store.instance(id: id) else { throw HostError.notFound("no instance \(id.debugDescription)") }
        guard let plugin = registry.plugin(named: instance.plugin) else {
            throw HostError.unavailable("plugin \(instance.plugin) of instance \(id) is not loaded")
        }
        return (instance, plugin)
    }
}
