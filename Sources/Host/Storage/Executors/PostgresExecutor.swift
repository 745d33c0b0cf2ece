import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The scale-out backend: several host replicas share one PostgreSQL database through a connection pool.
/// Statements are written with `?` placeholders like SQLite's and numbered here.
public final class PostgresExecutor: SQLExecutor {
    public let dialect = SQLDialect.postgres
    let client: PostgresClient
    let logger: Logger
    private let runTask: Task<Void, Never>

    init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        runTask = Task { await client.run() }
    }

    deinit { runTask.cancel() }

    /// `postgres://user:password@host:port/database[?sslmode=disable|require]`
    public static func connect(url: String, logger: Logger) throws -> PostgresExecutor {
        guard let c = URLComponents(string: url), let host = c.host, !host.isEmpty else {
            throw HostError.invalid("database: cannot parse PostgreSQL URL \(SecretMasker.redact(url))")
        }
        let database = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        let sslmode = c.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        guard ["disable", "require"].contains(sslmode) else {
            throw HostError.invalid("database: sslmode must be disable or require, not \(sslmode.debugDescription)")
        }
        let tls: PostgresClient.Configuration.TLS = sslmode == "disable" ? .disable : .require(try .clientDefault)
        var config = PostgresClient.Configuration(
            host: host, port: c.port ?? 5432, username: c.user ?? "postgres", password: c.password,
            database: database.isEmpty ? nil : database, tls: tls)
        config.options.maximumConnections = 8
        return PostgresExecutor(client: PostgresClient(configuration: config, backgroundLogger: logger), logger: logger)
    }

    public func read<T: Sendable>(_ body: (any SQLSession) async throws -> T) async throws -> T {
        try await client.withConnection { conn in try await body(PostgresSession(connection: conn, logger: self.logger)) }
    }

    /// A transaction; what the body threw comes out as itself once the transaction is rolled back (postgres-nio
    /// wraps it), so callers see the same errors on both backends (e.g. `HostError.notFound`).
    public func transaction<T: Sendable>(_ body: (any SQLSession) async throws -> T) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger) { conn in try await body(PostgresSession(connection: conn, logger: self.logger)) }
        } catch let e as PostgresTransactionError where e.rollbackError == nil && e.beginError == nil && e.commitError == nil {
            if let thrown = e.closureError { throw thrown }
            throw e
        }
    }

    public func lock(_ session: any SQLSession, _ key: Int64) async throws {
        try await session.execute("SELECT pg_advisory_xact_lock(?)::text", [.int(key)])
    }

    public func lock(_ session: any SQLSession, named: String) async throws {
        try await session.execute("SELECT pg_advisory_xact_lock(hashtext(?))::text", [.text(named)])
    }

    public func close() async { runTask.cancel() }
}

/// Statements on one leased PostgreSQL connection.
struct PostgresSession: SQLSession {
    let connection: PostgresConnection
    let logger: Logger

    func query(_ sql: String, _ arguments: [SQLValue]) async throws -> [SQLRow] {
        var rows: [SQLRow] = []
        do {
            for try await row in try await connection.query(Self.statement(sql, arguments), logger: logger) {
                rows.append(try Self.row(row))
            }
        } catch let e as PSQLError {
            throw SQLError(message: e.serverInfo?[.message] ?? String(reflecting: e.code), sql: sql)
        }
        return rows
    }

    func execute(_ sql: String, _ arguments: [SQLValue]) async throws {
        _ = try await query(sql, arguments)
    }

    static func statement(_ sql: String, _ arguments: [SQLValue]) -> PostgresQuery {
        var binds = PostgresBindings(capacity: arguments.count)
        for a in arguments {
            switch a {
            case .null: binds.appendNull()
            case .int(let n): binds.append(n)
            case .double(let d): binds.append(d)
            case .text(let s): binds.append(s)
            case .bytes(let b): binds.append(String(decoding: b, as: UTF8.self))
            case .texts(let list): binds.append(list)
            }
        }
        return PostgresQuery(unsafeSQL: Placeholders.numbered(sql), binds: binds)
    }

    static func row(_ row: PostgresRow) throws -> SQLRow {
        SQLRow(try row.makeRandomAccess().map { cell -> SQLValue in
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int8, .int4, .int2: return .int(try cell.decode(Int64.self))
            case .float8, .float4, .numeric: return .double(try cell.decode(Double.self))
            case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
            default: return .text(try cell.decode(String.self))
            }
        })
    }
}

/// `?` → `$1, $2, …` outside quoted strings and identifiers; translations are kept (the store's SQL is a
/// small fixed set).
enum Placeholders {
    private static let cache = Mutex<[String: String]>([:])

    static func numbered(_ sql: String) -> String {
        if let hit = cache.withLock({ $0[sql] }) { return hit }
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var n = 0
        var quote: Character?
        for ch in sql {
            if let q = quote {
                if ch == q { quote = nil }
                out.append(ch)
            } else if ch == "'" || ch == "\"" {
                quote = ch
                out.append(ch)
            } else if ch == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(ch)
            }
        }
        cache.withLock { if $0.count < 10_000 { $0[sql] = out } }
        return out
    }
}
