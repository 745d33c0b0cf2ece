import CSQLite
import Foundation

/// One libsqlite3 connection with its prepared statements kept. Not thread-safe: its owner (the executor)
/// uses it from one thread at a time.
final class SQLiteConnection: @unchecked Sendable {
    let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    /// Process-wide settings, made once before the first connection opens.
    private static let configured: Int32 = synchost_sqlite3_disable_memstatus()

    init(path: String, readOnly: Bool) throws {
        _ = Self.configured
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw SQLError(message: "cannot open SQLite database \(path): \(message)", sql: "")
        }
        handle = db
        // A busy database (another process writing) is waited for, off the concurrency pool, up to 10 s.
        sqlite3_busy_timeout(db, 10_000)
    }

    deinit {
        for s in statements.values { sqlite3_finalize(s) }
        sqlite3_close_v2(handle)
    }

    /// Runs `sql` (several statements allowed) without arguments or results: pragmas, migrations.
    func script(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(handle, sql, nil, nil, &error) != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? lastError
            sqlite3_free(error)
            throw SQLError(message: message, sql: sql)
        }
    }

    var lastError: String { String(cString: sqlite3_errmsg(handle)) }

    func prepared(_ sql: String) throws -> OpaquePointer {
        if let s = statements[sql] { return s }
        var s: OpaquePointer?
        guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &s, nil) == SQLITE_OK, let s else {
            throw SQLError(message: lastError, sql: sql)
        }
        statements[sql] = s
        return s
    }

    /// Runs one prepared statement with `arguments`, calling `row` for each result row.
    func run(_ sql: String, _ arguments: [SQLValue], row: (OpaquePointer) throws -> Void) throws {
        try run(try prepared(sql), sql: sql, arguments, row: row)
    }

    /// Runs a statement prepared once by the caller (a bulk loop: no cache look-up per row).
    func step(_ s: OpaquePointer, sql: String, _ arguments: [SQLValue]) throws {
        try run(s, sql: sql, arguments) { _ in }
    }

    private func run(_ s: OpaquePointer, sql: String, _ arguments: [SQLValue], row: (OpaquePointer) throws -> Void) throws {
        defer {
            sqlite3_reset(s)
            sqlite3_clear_bindings(s)
        }
        for (i, v) in arguments.enumerated() { try bind(s, Int32(i + 1), v, sql: sql) }
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_ROW { try row(s); continue }
            if rc == SQLITE_DONE { return }
            throw SQLError(message: lastError, sql: sql)
        }
    }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        var rows: [SQLRow] = []
        try run(sql, arguments) { s in rows.append(Self.row(s)) }
        return rows
    }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        try run(sql, arguments) { _ in }
    }

    private func bind(_ s: OpaquePointer, _ index: Int32, _ value: SQLValue, sql: String) throws {
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(s, index)
        case .int(let n): rc = sqlite3_bind_int64(s, index, n)
        case .double(let d): rc = sqlite3_bind_double(s, index, d)
        case .text(var t):
            rc = t.withUTF8 { buf in Self.bindText(s, index, UnsafeRawBufferPointer(buf)) }
        case .bytes(let b):
            rc = b.withUnsafeBytes { buf in Self.bindText(s, index, buf) }
        case .texts:
            throw SQLError(message: "SQLite has no array parameters", sql: sql)
        }
        guard rc == SQLITE_OK else { throw SQLError(message: lastError, sql: sql) }
    }

    /// Binds UTF-8 bytes as TEXT (an empty buffer still binds '' rather than NULL).
    private static func bindText(_ s: OpaquePointer, _ index: Int32, _ buf: UnsafeRawBufferPointer) -> Int32 {
        guard let base = buf.baseAddress, buf.count > 0 else { return sqlite3_bind_text(s, index, "", 0, transient) }
        return sqlite3_bind_text(s, index, base.assumingMemoryBound(to: CChar.self), Int32(buf.count), transient)
    }

    /// The current row; the column `skipping` (read separately as bytes) is left `.null`.
    static func row(_ s: OpaquePointer, skipping: Int32 = -1) -> SQLRow {
        let n = sqlite3_column_count(s)
        var values: [SQLValue] = []
        values.reserveCapacity(Int(n))
        for i in 0..<n { values.append(i == skipping ? .null : value(s, i)) }
        return SQLRow(values)
    }

    static func value(_ s: OpaquePointer, _ i: Int32) -> SQLValue {
        switch sqlite3_column_type(s, i) {
        case SQLITE_INTEGER: return .int(sqlite3_column_int64(s, i))
        case SQLITE_FLOAT: return .double(sqlite3_column_double(s, i))
        case SQLITE_NULL: return .null
        default:
            let count = Int(sqlite3_column_bytes(s, i))
            guard let p = sqlite3_column_text(s, i) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self))
        }
    }

    /// The raw bytes of a text column (record data, without a String round trip).
    static func bytes(_ s: OpaquePointer, _ i: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(s, i))
        guard let p = sqlite3_column_text(s, i) else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: count))
    }
}
