import Synchronization

/// When the PostgreSQL store refreshes the planner's statistics of `records` itself. Autovacuum does so only after
/// a tenth of the table has changed, so a new instance's first sync (a bulk load into a big shared table) is planned
/// as if its collection held a row or two: lookups by key then go through (instance_id, collection, synced_at) and
/// read the whole collection for every page. As after any bulk load, the store runs ANALYZE, once a collection has
/// received 10,000, 100,000, 1,000,000 … new rows from this process (a handful of times per first sync).
final class StatisticsRefresh: Sendable {
    private let inserted = Mutex<[String: Int]>([:])
    static let firstThreshold = 10_000

    /// Counts `fresh` new rows of a collection; true when that crossed the next threshold.
    func grew(by fresh: Int, instance: String, collection: String) -> Bool {
        guard fresh > 0 else { return false }
        return inserted.withLock { counts in
            let key = instance + "\u{1F}" + collection
            let before = counts[key, default: 0]
            counts[key] = before + fresh
            var threshold = Self.firstThreshold
            while threshold <= before { threshold *= 10 }
            return before + fresh >= threshold
        }
    }
}
