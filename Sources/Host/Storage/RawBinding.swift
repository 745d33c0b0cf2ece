import GRDB
import GRDBSQLite

/// Binding and stepping a prepared GRDB statement through the sqlite3 C API: the store's per-record hot path
/// (insert / bump), where GRDB's argument arrays cost several times the SQLite work itself.
struct RawStatement {
    let statement: Statement
    let db: Database

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Binds `values` (1-based in order) and runs the statement to completion.
    func execute(_ values: RawValue...) throws {
        let s = statement.sqliteStatement
        sqlite3_reset(s)
        sqlite3_clear_bindings(s)
        for (i, v) in values.enumerated() {
            let index = Int32(i + 1)
            switch v {
            case .text(let str):
                var str = str
                str.withUTF8 { buf in _ = buf.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(s, index, $0.baseAddress, Int32(buf.count), Self.transient) } }
            case .bytes(let bytes):
                bytes.withUnsafeBufferPointer { buf in
                    _ = buf.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(s, index, $0.baseAddress, Int32(buf.count), Self.transient) }
                }
            case .int(let n): sqlite3_bind_int64(s, index, n)
            case .null: sqlite3_bind_null(s, index)
            }
        }
        let rc = sqlite3_step(s)
        guard rc == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            sqlite3_reset(s)
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: message, sql: statement.sql)
        }
        sqlite3_reset(s)
    }

    /// Rows changed by the last execute.
    var changes: Int { Int(sqlite3_changes(db.sqliteConnection)) }
}

enum RawValue {
    case text(String)
    /// UTF-8 text given as bytes (record data straight from the plugin's frame).
    case bytes([UInt8])
    case int(Int64)
    case null

    static func optional(_ s: String?) -> RawValue { s.map { .text($0) } ?? .null }
}
