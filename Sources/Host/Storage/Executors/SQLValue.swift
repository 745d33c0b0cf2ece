import Foundation

/// One SQL value, the same for both backends: what the store binds and what its queries return.
public enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    /// UTF-8 text handed over as bytes: record data exactly as the plugin sent it.
    case bytes([UInt8])
    /// A text array, for PostgreSQL's `= ANY(?)` and `UNNEST(?)`; SQLite has no arrays and refuses it.
    case texts([String])

    static func optional(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
    static func optional(_ i: Int64?) -> SQLValue { i.map { .int($0) } ?? .null }
    static func optional(_ d: Date?) -> SQLValue { d.map { .int($0.millis) } ?? .null }
    static func bool(_ b: Bool) -> SQLValue { .int(b ? 1 : 0) }
}

/// One result row: values by column position.
public struct SQLRow: Sendable {
    public var values: [SQLValue]

    public init(_ values: [SQLValue]) { self.values = values }

    public var count: Int { values.count }

    func text(_ i: Int) -> String? {
        switch values[i] {
        case .text(let s): s
        case .bytes(let b): String(decoding: b, as: UTF8.self)
        case .int(let n): String(n)
        case .double(let d): String(d)
        default: nil
        }
    }

    func bytes(_ i: Int) -> [UInt8]? {
        switch values[i] {
        case .bytes(let b): b
        case .text(let s): Array(s.utf8)
        default: nil
        }
    }

    func int(_ i: Int) -> Int64? {
        switch values[i] {
        case .int(let n): n
        case .double(let d): Int64(d)
        case .text(let s): Int64(s)
        default: nil
        }
    }

    func double(_ i: Int) -> Double? {
        switch values[i] {
        case .double(let d): d
        case .int(let n): Double(n)
        case .text(let s): Double(s)
        default: nil
        }
    }

    func date(_ i: Int) -> Date? { int(i).map(Date.init(millis:)) }
    func bool(_ i: Int) -> Bool { int(i) == 1 }
}

/// An error the database reported, with the statement that caused it.
public struct SQLError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var sql: String
    public var description: String { "database error: \(message) (in: \(sql.prefix(200)))" }
}
