import NIOCore
import Synchronization

/// The record route's cached answers, served again while nothing has been committed to the database since they were
/// read (`CommitStamp`): the same bytes, without a read. Any commit — a sync in this host, the CLI or another
/// process — ends them all at once; an answer also keeps the plugin handle that declared its collection, so a
/// plugin replaced or unloaded by a rescan is asked again. Without stamps (PostgreSQL) nothing is kept.
final class RecordResponseMemo: Sendable {
    struct Entry: Sendable {
        let plugin: String
        let handle: PluginHandle
        let body: ByteBuffer
    }

    static let maxEntries = 4096
    static let maxBytes = 16 << 20
    /// Only the answers of one moment are kept: those read at `stamp`.
    private let state = Mutex<(stamp: CommitStamp?, entries: [String: Entry], bytes: Int)>((nil, [:], 0))

    static func key(instance: String, collection: String, key: String) -> String {
        "\(instance)\u{0}\(collection)\u{0}\(key)"
    }

    func answer(_ key: String, at stamp: CommitStamp) -> Entry? {
        state.withLock { $0.stamp == stamp ? $0.entries[key] : nil }
    }

    /// Keeps an answer read at `stamp` (the caller checked that no commit came between the stamp and the read's end).
    func keep(_ entry: Entry, for key: String, at stamp: CommitStamp) {
        state.withLock { s in
            if s.stamp != stamp { s = (stamp, [:], 0) }
            guard s.entries.count < Self.maxEntries, s.bytes + entry.body.readableBytes <= Self.maxBytes else { return }
            if let old = s.entries.updateValue(entry, forKey: key) { s.bytes -= old.body.readableBytes }
            s.bytes += entry.body.readableBytes
        }
    }
}
