import Foundation
import PluginAPI

/// The store as plugins reach it: every operation acts on the calling session's instance, so a plugin can
/// only ever read and write its own instance's data.
struct StoreHostService: HostService {
    let store: any HostDatabase
    let collectionsOf: @Sendable (String) -> Set<String>?
    var clock: HostClock = HostClocks.system
    /// Told when a page changed records (the console updates the collection's views in place).
    var events: EventBus?

    typealias KeyRequest = StoreService.KeyRequest
    typealias NameRequest = StoreService.NameRequest
    typealias SetRequest = StoreService.SetRequest
    typealias ValueResponse = StoreService.ValueResponse

    /// The most keys one `purge_keys` call may name.
    static let maxPurgeKeys = 10_000

    func handle(op: String, request: [UInt8], session: SessionContext) async throws -> [UInt8] {
        guard let instance = session.instance?.id else {
            throw PluginError(.invalid, "store.\(op) outside an instance call: the store is per instance")
        }
        func decode<T: Decodable>(_ t: T.Type) throws -> T {
            do { return try WireJSON.decode(t, from: request) } catch {
                throw PluginError(.invalid, "store.\(op): malformed request: \(error)")
            }
        }
        switch op {
        case "upsert":
            var page = try UpsertPage.parse(request)
            try check(collection: page.collection, session: session)
            page.dryRun = page.dryRun || session.dryRun
            let counts = try await store.upsert(page, instance: instance, runID: session.runID, now: clock())
            session.tally?.add(counts)
            if !page.dryRun, counts.inserted + counts.updated > 0 {
                events?.publish(HostEvent.recordsChanged, ["instance": .string(instance), "collection": .string(page.collection),
                                                           "inserted": .int(Int64(counts.inserted)), "updated": .int(Int64(counts.updated)),
                                                           "run": session.runID.map(JSONValue.string) ?? .null])
            }
            return try WireJSON.encode(counts)
        case "get":
            let r = try decode(KeyRequest.self)
            try check(collection: r.collection, session: session)
            let found = try await store.record(instance: instance, collection: r.collection, key: r.key)
            session.reads?.recorded(.init(read: .record(collection: r.collection, key: r.key), stamp: ReadStamp(found.map { [$0] } ?? [])))
            return try WireJSON.encode(RecordFetchResult(record: found.map { Record(key: $0.key, data: $0.json) }))
        case "list":
            let r = try decode(StoreService.ListRequest.self)
            try check(collection: r.collection, session: session)
            var q = RecordQuery()
            q.keyFrom = r.keyFrom
            q.keyTo = r.keyTo
            q.filters = r.filters.sorted { $0.key < $1.key }.map { (field: $0.key, value: $0.value) }
            q.limit = r.limit
            q.cursor = r.cursor
            q = try q.validated()
            let page = try await store.records(instance: instance, collection: r.collection, query: q)
            session.reads?.recorded(.init(read: .list(collection: r.collection, query: q), stamp: ReadStamp(page.records, hasMore: page.nextCursor != nil)))
            return try WireJSON.encode(StoreService.ListPage(
                records: page.records.map { StoreService.ListedRecord(key: $0.key, data: $0.json, syncedAt: $0.syncedAt, changedAt: $0.changedAt) },
                nextCursor: page.nextCursor))
        case "aggregate":
            let r = try decode(StoreService.AggregateRequest.self)
            try check(collection: r.collection, session: session)
            return try WireJSON.encode(StoreService.AggregateResult(rows: try await store.aggregate(instance: instance, r)))
        case "purge_keys":
            let r = try decode(StoreService.PurgeKeysRequest.self)
            try check(collection: r.collection, session: session)
            guard r.keys.count <= Self.maxPurgeKeys else { throw PluginError(.invalid, "store.purge_keys: at most \(Self.maxPurgeKeys) keys per call") }
            if session.dryRun { return try WireJSON.encode(StoreService.Purged(purged: 0)) }
            return try WireJSON.encode(StoreService.Purged(purged: try await store.purgeKeys(instance: instance, collection: r.collection, keys: r.keys)))
        case "purge_deleted":
            let r = try decode(StoreService.PurgeDeletedRequest.self)
            try check(collection: r.collection, session: session)
            if session.dryRun { return try WireJSON.encode(StoreService.Purged(purged: 0)) }
            return try WireJSON.encode(StoreService.Purged(purged: try await store.purgeDeleted(instance: instance, collection: r.collection, before: r.deletedBefore)))
        case "cursor.get":
            return try WireJSON.encode(ValueResponse(value: try await store.cursor(instance: instance, stream: decode(NameRequest.self).name)))
        case "cursor.set":
            let r = try decode(SetRequest.self)
            if !session.dryRun { try await store.setCursor(instance: instance, stream: r.name, value: r.value, now: clock()) }
            return try WireJSON.encode(Empty())
        case "state.get":
            return try WireJSON.encode(ValueResponse(value: try await store.state(instance: instance, name: decode(NameRequest.self).name)))
        case "state.set":
            let r = try decode(SetRequest.self)
            // Plugin state (tokens, ETags, day markers) is not saved by a dry run: the next real run must not
            // skip what the dry run saw.
            if session.dryRun {
                session.tally?.wouldDo("would_set_state", .string(r.name))
                return try WireJSON.encode(Empty())
            }
            try await store.setState(instance: instance, name: r.name, value: r.value, now: clock())
            return try WireJSON.encode(Empty())
        default:
            throw HostInfo.noSuchOperation("store", op)
        }
    }

    /// A plugin writes only the collections its manifest declares.
    func check(collection: String, session: SessionContext) throws {
        guard let declared = collectionsOf(session.plugin) else { return }
        guard declared.contains(collection) else {
            throw PluginError(.invalid, "store: collection \(collection.debugDescription) is not declared in \(session.plugin)'s manifest (declared: \(declared.sorted().joined(separator: ", ")))")
        }
    }
}
