import Foundation
import PluginAPI

/// The records part of the host's database, one model for every upstream: collections of records per
/// instance with content hashes, and cursors and plugin state saved atomically with the data.
public protocol RecordStore: Sendable {
    /// Which backend, for logs and health ("sqlite", "postgresql").
    var backend: String { get }

    /// Writes one page in one transaction (with its cursor, if any) and reports inserted / updated /
    /// unchanged. Unchanged records only have `synced_at` bumped. A dry run writes nothing.
    func upsert(_ page: UpsertPage, instance: String, runID: String?, now: Date) async throws -> RunCounts
    func record(instance: String, collection: String, key: String) async throws -> StoredRecord?
    /// A cache read in one statement: the instance's plugin, the record, the collection's last sync; nil when
    /// there is no such instance.
    func cachedRecord(instance: String, collection: String, key: String) async throws -> CachedRecordRead?
    /// The database's last commit, read without a transaction; nil when the backend cannot tell (PostgreSQL)
    /// or not right now. Equal stamps: nothing committed in between, by anyone.
    func commitStamp() -> CommitStamp?
    /// A cache read of a page with its instance's plugin and the collection's last sync, in one read; nil when
    /// there is no such instance.
    func cachedList(instance: String, collection: String, query: RecordQuery) async throws -> CachedListRead?
    func records(instance: String, collection: String, query: RecordQuery) async throws -> RecordPage
    /// The statements that make `reads` of an instance again, built once (`readAgain`).
    func prepareReadAgain(instance: String, _ reads: [StoreRead]) throws -> PreparedReadAgain
    /// The instance's plugin and config version and the stamps of the prepared reads made again, on one
    /// connection; nil when there is no such instance.
    func readAgain(_ prepared: PreparedReadAgain) async throws -> StoreReadAgain?
    func collections(instance: String) async throws -> [CollectionSummary]
    func lastSyncedAt(instance: String, collection: String) async throws -> Date?
    /// Counts and numeric sums of live records, optionally grouped by a top-level field.
    func aggregate(instance: String, _ request: StoreService.AggregateRequest) async throws -> [StoreService.AggregateRow]
    /// Marks every live record of the collection that `runID` did not see as deleted; returns how many.
    /// Call only for a run that completed.
    func markUnseenDeleted(instance: String, collection: String, runID: String, now: Date) async throws -> Int
    /// Removes records of a collection deleted before `cutoff`; returns how many.
    func purgeDeleted(instance: String, collection: String, before cutoff: Date) async throws -> Int
    /// Removes records by key for good; returns how many existed.
    func purgeKeys(instance: String, collection: String, keys: [String]) async throws -> Int
    /// Removes everything an instance stored (records, cursors, state; runs are history and stay).
    func purge(instance: String) async throws

    func cursor(instance: String, stream: String) async throws -> JSONValue?
    func setCursor(instance: String, stream: String, value: JSONValue, now: Date) async throws
    func state(instance: String, name: String) async throws -> JSONValue?
    func setState(instance: String, name: String, value: JSONValue, now: Date) async throws
}
