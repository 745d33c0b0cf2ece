import Foundation

/// The embedded backend: one SQLite file (system libsqlite3) in WAL mode, one writer connection and a few
/// readers. Each connection has a thread of its own (a `ThreadExecutor`): sessions run there, so a synchronous
/// SQLite call never occupies Swift's cooperative pool. Transactions of one process take turns on the writer.
public final class SQLiteExecutor: SQLExecutor {
    public let dialect = SQLDialect.sqlite
    public let path: String

    struct Lane: Sendable {
        let connection: SQLiteConnection
        let executor: ThreadExecutor
    }

    private let writer: ResourcePool<Lane>
    private let readers: ResourcePool<Lane>

    /// Opens (creating it if needed) the database file. Blocking: call it off the concurrency pool.
    public init(path: String, readers readerCount: Int = 2) throws {
        self.path = path
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let w = try SQLiteConnection(path: path, readOnly: false)
        // WAL: readers never wait for the writer; NORMAL is durable across process crashes in WAL mode.
        try w.script("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
        writer = ResourcePool([Lane(connection: w, executor: ThreadExecutor(label: "synchost.sqlite.writer"))])
        readers = ResourcePool(try (0..<max(1, readerCount)).map { i in
            Lane(connection: try SQLiteConnection(path: path, readOnly: true), executor: ThreadExecutor(label: "synchost.sqlite.reader\(i)"))
        })
    }

    public func read<T: Sendable>(_ body: (any SQLSession) async throws -> T) async throws -> T {
        try await readers.with { lane in
            try await withTaskExecutorPreference(lane.executor) {
                try await body(SQLiteSession(connection: lane.connection))
            }
        }
    }

    public func transaction<T: Sendable>(_ body: (any SQLSession) async throws -> T) async throws -> T {
        try await writer.with { lane in
            try await withTaskExecutorPreference(lane.executor) {
                let c = lane.connection
                try c.script("BEGIN IMMEDIATE")
                do {
                    let result = try await body(SQLiteSession(connection: c))
                    try c.script("COMMIT")
                    return result
                } catch {
                    try? c.script("ROLLBACK")
                    throw error
                }
            }
        }
    }

    /// SQLite has one writer: every transaction is already serialised.
    public func lock(_ session: any SQLSession, _ key: Int64) async throws {}
    public func lock(_ session: any SQLSession, named: String) async throws {}

    public func close() async {}

    /// Runs `body` with the writer connection itself (bulk paths that bind and step statements directly).
    func withWriter<T: Sendable>(_ body: (SQLiteConnection) throws -> T) async throws -> T {
        try await writer.with { lane in
            try await withTaskExecutorPreference(lane.executor) {
                let c = lane.connection
                try c.script("BEGIN IMMEDIATE")
                do {
                    let result = try body(c)
                    try c.script("COMMIT")
                    return result
                } catch {
                    try? c.script("ROLLBACK")
                    throw error
                }
            }
        }
    }
}

/// Statements on one SQLite connection, run synchronously on that connection's own thread.
struct SQLiteSession: SQLSession {
    let connection: SQLiteConnection

    func query(_ sql: String, _ arguments: [SQLValue]) async throws -> [SQLRow] {
        try connection.query(sql, arguments)
    }

    func execute(_ sql: String, _ arguments: [SQLValue]) async throws {
        try connection.execute(sql, arguments)
    }
}
