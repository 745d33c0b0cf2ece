import Foundation

/// A read of one instance's records that can be made again later to see whether its answer changed: a record
/// by key, or a page of a collection.
public enum StoreRead: Sendable {
    case record(collection: String, key: String)
    case list(collection: String, query: RecordQuery)
}

/// What a record looked like to a read, without its bytes: its key, content hash, sync, change and deletion times.
public struct RecordStamp: Equatable, Sendable {
    var key: String
    var hash: String
    var syncedAt: Int64
    var changedAt: Int64
    var deletedAt: Int64?

    init(_ r: StoredRecord) {
        key = r.key
        hash = r.hash
        syncedAt = r.syncedAt.millis
        changedAt = r.changedAt.millis
        deletedAt = r.deletedAt?.millis
    }

    /// From the columns of `SQLStore.stampColumns` starting at `at`.
    init(_ row: SQLRow, at i: Int) {
        key = row.text(i) ?? ""
        hash = row.text(i + 1) ?? ""
        syncedAt = row.int(i + 2) ?? 0
        changedAt = row.int(i + 3) ?? 0
        deletedAt = row.int(i + 4)
    }
}

/// Equal for equal answers of one read: the records it returned (as stamps) and whether a page had more.
public struct ReadStamp: Equatable, Sendable {
    var records: [RecordStamp]
    var hasMore = false

    init(_ records: [StoredRecord], hasMore: Bool = false) {
        self.records = records.map(RecordStamp.init)
        self.hasMore = hasMore
    }

    init(stamps: [RecordStamp], hasMore: Bool) {
        records = stamps
        self.hasMore = hasMore
    }
}

/// Reads made ready to be made again, many times (a reused route answer is checked on every request): the
/// statements are built once, for the store that made them.
public struct PreparedReadAgain: Sendable {
    struct Statement: Sendable {
        var sql: String
        var arguments: [SQLValue]
        /// For a page: its size (one more row is read to tell whether there are more).
        var pageLimit: Int?
    }

    let instance: String
    /// The instance row's statement and each read's.
    let head: Statement
    let reads: [Statement]
    /// One read joined to the instance row in one statement, where the store can (its rows: plugin,
    /// updated_at, then the read's stamp columns, NULL when nothing matched).
    let joined: Statement?
}

/// What reading again found: the instance (its plugin and config version) and one stamp per read.
public struct StoreReadAgain: Sendable {
    var plugin: String
    var instanceUpdatedAt: Date
    var stamps: [ReadStamp]
}
