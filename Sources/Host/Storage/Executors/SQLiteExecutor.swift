import Foundation
import Synchronization

/// The embedded backend: one SQLite file (system libsqlite3) in WAL mode, one writer connection and a few
/// readers. Each connection has a thread of its own (a `ThreadExecutor`): sessions run there, so a synchronous
/// SQLite call never occupies Swift's cooperative pool. Transactions of one process take turns on the writer
/// and, when they queue, share commits (`WriteGroup`).
public final class SQLiteExecutor: SQLExecutor {
    public let dialect = SQLDialect.sqlite
    public let path: String

    /// A connection, the thread it is used on, and the lock that lends it to one task at a time.
    struct Lane: Sendable {
        let connection: SQLiteConnection
        let executor: ThreadExecutor
        let lock = ResourcePool([0])

        /// Runs `body` with the connection, on its thread. The lock is awaited on that thread too: a task granted
        /// the connection resumes there directly, never waiting for the concurrency pool while it holds the lock
        /// (which would make the scheduler, on its own thread, wait for the pool through the lock).
        func with<T: Sendable>(_ body: (SQLiteConnection) async throws -> T) async throws -> T {
            try await withTaskExecutorPreference(executor) {
                let token = await lock.acquire()
                defer { lock.release(token) }
                return try await body(connection)
            }
        }
    }

    private let writer: Lane
    /// Transactions that end while others wait for the writer share one commit.
    let group = WriteGroup()
    /// Transactions waiting for the writer right now.
    var writerWaiting: Int { writer.lock.waiting }
    private let readers: [Lane]
    private let nextReader = Atomic<Int>(0)
    /// Connections for point reads made synchronously on the calling task (one per core when busy): a primary-key
    /// read in WAL mode takes microseconds and never waits for the writer, so a hop to another thread would cost
    /// more than the read.
    private let quickReaders = Mutex<[SQLiteConnection]>([])
    /// Commits seen without a transaction (the WAL index header).
    let commits: SQLiteCommitWatch

    /// Opens (creating it if needed) the database file. Blocking: call it off the concurrency pool.
    public init(path: String, readers readerCount: Int = 2) throws {
        self.path = path
        commits = SQLiteCommitWatch(databasePath: path)
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Created private: SQLite gives the -wal and -shm files the database file's mode.
        if !FileManager.default.fileExists(atPath: path) {
            let fd = Foundation.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
            if fd >= 0 { Glibc.close(fd) }
        }
        let w = try SQLiteConnection(path: path, readOnly: false)
        // WAL: readers never wait for the writer; NORMAL is durable across process crashes in WAL mode.
        // secure_delete FAST: content deleted or overwritten (an old config) is zeroed in the pages written anyway.
        try w.script("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA secure_delete = FAST")
        writer = Lane(connection: w, executor: ThreadExecutor(label: "synchost.sqlite.writer"))
        readers = try (0..<max(1, readerCount)).map { i in
            Lane(connection: try SQLiteConnection(path: path, readOnly: true), executor: ThreadExecutor(label: "synchost.sqlite.reader\(i)"))
        }
    }

    public func read<T: Sendable>(_ body: (any SQLSession) async throws -> T) async throws -> T {
        let lane = readers[nextReader.wrappingAdd(1, ordering: .relaxed).oldValue % readers.count]
        return try await lane.with { c in try await body(SQLiteSession(connection: c)) }
    }

    public func transaction<T: Sendable>(_ body: (any SQLSession) async throws -> T) async throws -> T {
        let group = self.group, lock = writer.lock
        let (result, ticket): (T, CommitTicket?) = try await writer.with { c in
            try group.join(c)
            try c.script("SAVEPOINT member")
            do {
                let result = try await body(SQLiteSession(connection: c))
                try c.script("RELEASE member")
                if lock.waiting > 0, let ticket = group.deferCommit() { return (result, ticket) }
                try group.commit(c)
                return (result, nil)
            } catch {
                do {
                    try c.script("ROLLBACK TO member; RELEASE member")
                    // The others' work is kept; with nobody left to commit it, commit it now.
                    if lock.waiting == 0 { try? group.commit(c) }
                } catch {
                    group.abort(c, because: error)
                }
                throw error
            }
        }
        try await ticket?.wait()
        return result
    }

    /// Runs `body` synchronously on a reader connection of the quick pool (opened on first need).
    func readNow<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        let connection = try quickReaders.withLock { $0.popLast() } ?? SQLiteConnection(path: path, readOnly: true)
        defer { quickReaders.withLock { if $0.count < 8 { $0.append(connection) } } }
        return try body(connection)
    }

    /// Copies the write-ahead log into the database and empties it (`wal_checkpoint(TRUNCATE)`), after committing
    /// whatever a deferred commit left open: old page images — an overwritten secret — leave the log file.
    func truncateLog() async throws {
        let group = self.group
        try await writer.with { c in
            try group.join(c)
            try group.commit(c)
            try c.script("PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    /// SQLite has one writer: every transaction is already serialised.
    public func lock(_ session: any SQLSession, _ key: Int64) async throws {}
    public func lock(_ session: any SQLSession, named: String) async throws {}

    public func close() async {}
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
