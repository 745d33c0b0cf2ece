import CSQLite
import Foundation
import PluginAPI

/// The store benchmarks' anchor: raw sqlite3 prepared inserts into a table of the store's shape (same columns,
/// same primary key), WAL with synchronous=NORMAL as the store runs, one transaction. Only the inserts and the
/// commit are timed; the caller's page source (record generation or reading back) and the hashes are not.
public enum RawInsertAnchor {
    public struct Result: Sendable {
        public var records = 0
        public var seconds = 0.0
        public var perSecond: Double { seconds > 0 ? Double(records) / seconds : 0 }
    }

    public static func run(path: String, nextPage: () throws -> [(key: String, json: [UInt8])]?) rethrows -> Result {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        var db: OpaquePointer?
        check(sqlite3_open(path, &db), db, "open")
        defer { sqlite3_close(db) }
        check(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", nil, nil, nil), db, "pragma")
        check(sqlite3_exec(db, """
            CREATE TABLE records (instance_id TEXT NOT NULL, collection TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL,
            hash TEXT NOT NULL, first_seen_at INTEGER NOT NULL, synced_at INTEGER NOT NULL, changed_at INTEGER NOT NULL,
            deleted_at INTEGER, seen_run TEXT, PRIMARY KEY (instance_id, collection, key))
            """, nil, nil, nil), db, "create")
        var stmt: OpaquePointer?
        check(sqlite3_prepare_v2(db, "INSERT INTO records (instance_id, collection, key, data, hash, first_seen_at, synced_at, changed_at) VALUES (?,?,?,?,?,?,?,?)",
                                 -1, &stmt, nil), db, "prepare")
        defer { sqlite3_finalize(stmt) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        let clock = ContinuousClock()
        var result = Result(), timed = Duration.zero
        check(sqlite3_exec(db, "BEGIN", nil, nil, nil), db, "begin")
        while let page = try nextPage() {
            let hashes = page.map { ContentHash.of($0.json) }
            timed += clock.measure {
                for (i, r) in page.enumerated() {
                    sqlite3_bind_text(stmt, 1, "bench", -1, transient)
                    sqlite3_bind_text(stmt, 2, "cdrs", -1, transient)
                    sqlite3_bind_text(stmt, 3, r.key, -1, transient)
                    r.json.withUnsafeBufferPointer { b in
                        _ = b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { sqlite3_bind_text(stmt, 4, $0, Int32(b.count), transient) }
                    }
                    sqlite3_bind_text(stmt, 5, hashes[i], -1, transient)
                    sqlite3_bind_int64(stmt, 6, 1)
                    sqlite3_bind_int64(stmt, 7, 1)
                    sqlite3_bind_int64(stmt, 8, 1)
                    check(sqlite3_step(stmt), db, "step")
                    sqlite3_reset(stmt)
                }
            }
            result.records += page.count
        }
        timed += clock.measure { check(sqlite3_exec(db, "COMMIT", nil, nil, nil), db, "commit") }
        result.seconds = Double(timed.components.seconds) + Double(timed.components.attoseconds) / 1e18
        return result
    }

    static func check(_ rc: Int32, _ db: OpaquePointer?, _ what: String) {
        guard rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW else {
            fatalError("\(what): \(String(cString: sqlite3_errmsg(db)))")
        }
    }
}
