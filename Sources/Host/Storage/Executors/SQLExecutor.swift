import Foundation

/// The two backends' SQL differences, in one place: the store's SQL is written once with `?` placeholders.
public enum SQLDialect: String, Sendable {
    case sqlite, postgres

    /// A top-level field of a record's JSON as text.
    func jsonText(_ field: String) -> String {
        self == .sqlite ? "CAST(json_extract(data, '$.\(field)') AS TEXT)" : "(doc->>'\(field)')"
    }

    /// A top-level field of a record's JSON as a number, for sums.
    func jsonNumberSum(_ field: String) -> String {
        self == .sqlite ? "TOTAL(json_extract(data, '$.\(field)'))" : "COALESCE(SUM((doc->>'\(field)')::float8), 0)"
    }

    /// Keys compare bytewise in both backends.
    var keyOrder: String { self == .sqlite ? "key" : "key COLLATE \"C\"" }
    /// `expression IN (values)` for a list bound as one argument (PostgreSQL) or expanded (SQLite).
    func inList(_ column: String, count: Int) -> String {
        self == .sqlite ? "\(column) IN (\(Array(repeating: "?", count: count).joined(separator: ",")))" : "\(column) = ANY(?)"
    }
    func listArguments(_ values: [String]) -> [SQLValue] {
        self == .sqlite ? values.map { .text($0) } : [.texts(values)]
    }
}

/// Statements inside one read or one transaction of an executor.
public protocol SQLSession {
    /// Runs one statement and returns its rows (none for a statement without RETURNING).
    func query(_ sql: String, _ arguments: [SQLValue]) async throws -> [SQLRow]
    /// Runs one statement and discards its rows.
    func execute(_ sql: String, _ arguments: [SQLValue]) async throws
}

extension SQLSession {
    func execute(_ sql: String) async throws { try await execute(sql, []) }
    func query(_ sql: String) async throws -> [SQLRow] { try await query(sql, []) }
    func one(_ sql: String, _ arguments: [SQLValue] = []) async throws -> SQLRow? { try await query(sql, arguments).first }
    /// Rows a `... RETURNING` statement touched.
    func count(_ sql: String, _ arguments: [SQLValue]) async throws -> Int { try await query(sql, arguments).count }
}

/// A backend: sessions for reads and for write transactions. The store's logic is written once over it.
public protocol SQLExecutor: Sendable {
    var dialect: SQLDialect { get }
    /// A read-only session (a consistent snapshot for its duration).
    func read<T: Sendable>(_ body: (any SQLSession) async throws -> T) async throws -> T
    /// One transaction: committed when `body` returns, rolled back when it throws. Writers of one database take
    /// turns within a process (SQLite: one writer) or use row locks (PostgreSQL).
    func transaction<T: Sendable>(_ body: (any SQLSession) async throws -> T) async throws -> T
    /// Serialises this transaction with every other one that takes the same lock (fires and claims across
    /// replicas). SQLite: its single writer already does. PostgreSQL: an advisory transaction lock.
    func lock(_ session: any SQLSession, _ key: Int64) async throws
    func lock(_ session: any SQLSession, named: String) async throws
    func close() async
}
