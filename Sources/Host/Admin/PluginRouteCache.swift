import Foundation
import HTTPTypes
import NIOCore
import Synchronization

/// Answers of plugin routes the plugin marked reusable (`RouteResponse.cache`), kept in memory. An answer is
/// served again — without calling the plugin — only after the host has checked, in the database, that every
/// store read the call made would return the same records, that the instance's config is unchanged and that
/// `until` has not passed. The check reads the database, so a record changed by a sync in this host, by the
/// CLI in another process or by another replica sharing PostgreSQL is never answered from memory.
final class PluginRouteCache: Sendable {
    /// The plugin, the instance, the path, and the query and headers the plugin sees (sorted), as one text.
    struct Key: Hashable, Sendable {
        var text: String

        init(plugin: String, instance: String, path: String, query: [String: String], headers: [String: String]) {
            func pairs(_ d: [String: String]) -> String { d.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "\u{1}") }
            text = [plugin, instance, path, pairs(query), pairs(headers)].joined(separator: "\u{0}")
        }
    }

    struct Entry: Sendable {
        /// The loaded plugin that answered (a rescan that replaced it makes the entry unusable).
        var handle: PluginHandle
        var instanceUpdatedAt: Date
        /// The store reads the answer came from, and what each returned then.
        var reads: [StoreRead]
        var fingerprints: [String]
        var until: Date?
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: ByteBuffer
    }

    static let maxEntries = 4096
    static let maxBytes = 64 << 20
    static let maxBody = 1 << 20
    private let state = Mutex<(entries: [Key: Entry], bytes: Int)>(([:], 0))

    func entry(_ key: Key) -> Entry? { state.withLock { $0.entries[key] } }

    func remove(_ key: Key) {
        state.withLock { s in
            if let old = s.entries.removeValue(forKey: key) { s.bytes -= old.body.readableBytes }
        }
    }

    /// Keeps an answer. A full cache drops others to make room: a bound on memory, not a ranking (every
    /// answer costs its check either way, and a dropped one is only asked of the plugin again).
    func store(_ entry: Entry, for key: Key) {
        guard entry.body.readableBytes <= Self.maxBody else { return }
        state.withLock { s in
            if let old = s.entries.updateValue(entry, forKey: key) { s.bytes -= old.body.readableBytes }
            s.bytes += entry.body.readableBytes
            while s.entries.count > Self.maxEntries || s.bytes > Self.maxBytes, let other = s.entries.keys.first(where: { $0 != key }) {
                if let old = s.entries.removeValue(forKey: other) { s.bytes -= old.body.readableBytes }
            }
        }
    }

    /// Whether an entry still answers for `instanceID` now: the same plugin image, before `until`, and — read
    /// again on one connection — the instance still the plugin's with its config unchanged, and every read
    /// returning what it returned then.
    static func stillValid(_ e: Entry, handle: PluginHandle, instanceID: String, now: Date, store: any HostDatabase) async throws -> Bool {
        guard e.handle === handle else { return false }
        if let until = e.until, now >= until { return false }
        guard let again = try await store.readAgain(instance: instanceID, e.reads) else { return false }
        return again.plugin == handle.name && again.instanceUpdatedAt == e.instanceUpdatedAt && again.fingerprints == e.fingerprints
    }
}
