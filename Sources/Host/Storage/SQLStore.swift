import Foundation
import PluginAPI
import Synchronization

/// The host's database, written once over a backend's executor: SQLite by default, PostgreSQL to scale out.
/// Per-backend code is confined to the executors and to the few places where the SQL genuinely differs (the
/// batched upsert, `SKIP LOCKED` claims, advisory locks, JSON operators — see `SQLDialect`).
public final class SQLStore: Sendable {
    let executor: any SQLExecutor
    var dialect: SQLDialect { executor.dialect }
    /// Decoded instance configs by instance id, with the stored text they were decoded from.
    let configs = Mutex<[String: (text: [UInt8], config: [String: JSONValue])]>([:])
    /// What seals secret config values, and which config keys of a plugin are secret (`SQLStore+Secrets`).
    let secrets = Mutex<(sealer: SecretSealer?, keysOf: (@Sendable (String) -> Set<String>?)?)>((nil, nil))

    public var backend: String { dialect == .sqlite ? "sqlite" : "postgresql" }
    /// One host owns an SQLite file; PostgreSQL is shared by replicas.
    public var isExclusive: Bool { dialect == .sqlite }

    /// Serialises migrations, fires and claims across replicas (PostgreSQL advisory lock keys).
    static let migrationLock: Int64 = 74_657_001
    static let queueLock: Int64 = 74_657_002

    /// The embedded backend's commit watch (none for PostgreSQL).
    let commits: SQLiteCommitWatch?
    /// When PostgreSQL's statistics of `records` are refreshed after bulk inserts.
    let statistics = StatisticsRefresh()

    init(executor: any SQLExecutor) {
        self.executor = executor
        commits = (executor as? SQLiteExecutor)?.commits
    }

    /// Applies the migrations this database has not seen, in one transaction under a lock (replicas may start
    /// together).
    func migrate(now: Date = Date()) async throws {
        let dialect = self.dialect
        try await executor.transaction { s in
            try await self.executor.lock(s, Self.migrationLock)
            try await s.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            var applied = Set(try await s.query("SELECT version FROM schema_migrations").compactMap { $0.int(0) })
            if dialect == .sqlite, applied.isEmpty {
                applied = try await Self.adoptGRDBMigrations(s, now: now)
            }
            for m in StoreSchema.migrations where !applied.contains(m.version) {
                for sql in m.statements(dialect) { try await s.execute(sql) }
                try await s.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", [.int(m.version), .int(now.millis)])
            }
        }
    }

    /// SQLite files made by earlier releases noted their migrations in GRDB's table, by name.
    private static func adoptGRDBMigrations(_ s: any SQLSession, now: Date) async throws -> Set<Int64> {
        guard try await s.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'grdb_migrations'") != nil else { return [] }
        let names = Set(try await s.query("SELECT identifier FROM grdb_migrations").compactMap { $0.text(0) })
        let versions = StoreSchema.migrations.filter { names.contains($0.name) }.map(\.version)
        for v in versions {
            try await s.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", [.int(v), .int(now.millis)])
        }
        return Set(versions)
    }

    /// The schema version this database is at.
    func schemaVersion() async throws -> Int64 {
        try await executor.read { s in try await s.one("SELECT MAX(version) FROM schema_migrations")?.int(0) ?? 0 }
    }

    func read<T: Sendable>(_ body: (any SQLSession) async throws -> T) async throws -> T { try await executor.read(body) }
    func write<T: Sendable>(_ body: (any SQLSession) async throws -> T) async throws -> T { try await executor.transaction(body) }
    /// One statement in its own transaction.
    func write(_ sql: String, _ arguments: [SQLValue]) async throws { try await executor.transaction { s in try await s.execute(sql, arguments) } }
    /// One `... RETURNING` statement in its own transaction; how many rows it touched.
    func writeCount(_ sql: String, _ arguments: [SQLValue]) async throws -> Int {
        try await executor.transaction { s in try await s.count(sql, arguments) }
    }
    func rows(_ sql: String, _ arguments: [SQLValue] = []) async throws -> [SQLRow] { try await executor.read { s in try await s.query(sql, arguments) } }
    /// A small read by key, which SQLite answers on the calling task (see `SQLiteExecutor.readNow`).
    func quickRows(_ sql: String, _ arguments: [SQLValue] = []) async throws -> [SQLRow] {
        if let sqlite = executor as? SQLiteExecutor { return try sqlite.readNow { try $0.query(sql, arguments) } }
        return try await rows(sql, arguments)
    }

    /// `FOR UPDATE SKIP LOCKED` where replicas compete for rows (PostgreSQL); SQLite's writer is alone anyway.
    var skipLocked: String { dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : "" }

    public func close() async { await executor.close() }
}
