import Foundation

/// A read of one instance's records that can be made again later to see whether its answer changed: a record
/// by key, or a page of a collection.
public enum StoreRead: Sendable {
    case record(collection: String, key: String)
    case list(collection: String, query: RecordQuery)

    /// Equal for equal answers: the records' keys, content hashes, sync, change and deletion times (and the
    /// page's continuation).
    static func fingerprint(_ records: [StoredRecord], next: String? = nil) -> String {
        var s = ""
        for r in records {
            s += r.key
            s += "\u{1}\(r.hash)\u{1}\(r.syncedAt.millis)\u{1}\(r.changedAt.millis)\u{1}\(r.deletedAt?.millis ?? -1)\u{2}"
        }
        if let next { s += "\u{3}" + next }
        return s
    }
}

/// What reading again found: the instance (its plugin and config version) and one fingerprint per read.
public struct StoreReadAgain: Sendable {
    public var plugin: String
    public var instanceUpdatedAt: Date
    public var fingerprints: [String]
}
