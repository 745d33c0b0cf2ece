import Foundation

/// What a cache read of one record needs, from one statement: the instance's plugin (nil: no such instance),
/// the record (nil: not stored) and when its collection was last synced.
public struct CachedRecordRead: Sendable {
    public var plugin: String
    public var record: StoredRecord?
    public var lastSyncedAt: Date?
}

/// What a cache read of a page needs: the instance's plugin, the page, when the collection was last synced.
public struct CachedListRead: Sendable {
    public var plugin: String
    public var page: RecordPage
    public var lastSyncedAt: Date?
}
