import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Answers of plugin routes the plugin marked reusable (`RouteResponse.cache`), kept in memory. An answer is
/// served again — without calling the plugin — only after the host has checked, in the database, that every
/// store read the call made would return the same records, that the instance's config is unchanged and that
/// `until` has not passed. The check reads the database, so a record changed by a sync in this host, by the
/// CLI in another process or by another replica sharing PostgreSQL is never answered from memory; on SQLite a
/// check holds until the next commit (`CommitStamp`), which any of those writers makes.
final class PluginRouteCache: Sendable {
    /// The request as sent: the plugin, the path with its query, and the headers a plugin sees. Built
    /// before the route is matched, so a hit costs no parsing; two spellings of one query are two entries.
    struct Key: Hashable, Sendable {
        var text: String

        init(plugin: String, request: Request) {
            var t = plugin
            t += "\u{0}"
            t += request.uri.description
            // One pass over the fields, in the order sent (another order is only another entry).
            for field in request.headers where PluginRoutes.forwardedHeaders.contains(field.name) {
                t += "\u{0}"
                t += field.name.canonicalName
                t += "\u{1}"
                t += field.value
            }
            text = t
        }
    }

    struct Entry: Sendable {
        /// The loaded plugin that answered (a rescan that replaced it makes the entry unusable).
        var handle: PluginHandle
        /// The instance the answer is of, and whether its route is public (else the caller's token is checked first).
        var instanceID: String
        var isPublic: Bool
        var instanceUpdatedAt: Date
        /// The store reads the answer came from (made ready to be made again), and what each returned then.
        var reads: PreparedReadAgain
        var stamps: [ReadStamp]
        var until: Date?
        var status: HTTPResponse.Status
        /// The answer's headers, with `x-synchost-cache: hit` (built once, not per request).
        var hitHeaders: HTTPFields
        var body: ByteBuffer
        /// The database's moment at which the reads were last found unchanged: while no commit follows it, the
        /// answer holds without reading them again. Nil without stamps (PostgreSQL) or after a commit raced the check.
        var checkedAt: CommitStamp?
        /// Tells this entry from a later one stored under the same key.
        var serial: UInt64 = 0
    }

    static let maxEntries = 4096
    static let maxBytes = 64 << 20
    static let maxBody = 1 << 20
    private let state = Mutex<(entries: [Key: Entry], bytes: Int)>(([:], 0))
    private let serials = Atomic<UInt64>(0)

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
        var entry = entry
        entry.serial = serials.wrappingAdd(1, ordering: .relaxed).newValue
        state.withLock { s in
            if let old = s.entries.updateValue(entry, forKey: key) { s.bytes -= old.body.readableBytes }
            s.bytes += entry.body.readableBytes
            while s.entries.count > Self.maxEntries || s.bytes > Self.maxBytes, let other = s.entries.keys.first(where: { $0 != key }) {
                if let old = s.entries.removeValue(forKey: other) { s.bytes -= old.body.readableBytes }
            }
        }
    }

    /// Records that the entry's reads were found unchanged at `stamp` (if it is still the entry that was checked).
    func markChecked(_ key: Key, serial: UInt64, at stamp: CommitStamp) {
        state.withLock { s in
            if s.entries[key]?.serial == serial { s.entries[key]?.checkedAt = stamp }
        }
    }

    /// Whether an entry may still answer, as far as memory tells: the same plugin image, before `until`.
    static func stillCurrent(_ e: Entry, handle: PluginHandle, now: Date) -> Bool {
        guard e.handle === handle else { return false }
        if let until = e.until, now >= until { return false }
        return true
    }

    /// Whether an entry still answers for `instanceID` now: current (above), and — read again on one connection —
    /// the instance still the plugin's with its config unchanged, and every read returning what it returned then.
    static func stillValid(_ e: Entry, handle: PluginHandle, now: Date, store: any HostDatabase) async throws -> Bool {
        guard stillCurrent(e, handle: handle, now: now) else { return false }
        guard let again = try await store.readAgain(e.reads) else { return false }
        return again.plugin == handle.name && again.instanceUpdatedAt == e.instanceUpdatedAt && again.stamps == e.stamps
    }
}
