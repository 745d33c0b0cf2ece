import Foundation

/// A large upstream answer read without building it: the byte ranges of one array's elements, the rest of the
/// top-level object parsed, and single fields of an element read without parsing the element. A plugin can then
/// store each element's own bytes (they are JSON already) in batches, holding only the answer and one batch.
public struct JSONElementScan: Sendable {
    /// The top-level object without the scanned array.
    public var rest: JSONValue
    /// Where each element of the array lies in the scanned bytes (after its leading whitespace).
    public var elements: [Range<Int>]

    /// Scans a top-level object (or a one-element array wrapping it) for the array under `arrayKey`. The
    /// elements are checked to be well-formed JSON, not parsed.
    public init(_ bytes: [UInt8], arrayKey key: String) throws {
        var elements: [Range<Int>] = []
        rest = try bytes.withUnsafeBufferPointer { buf in
            var p = JSONParser(buf)
            return try p.topLevelObject(arrayKey: key) { p in
                let start = p.i
                try p.skipValue(depth: 1)
                elements.append(start..<p.i)
            }
        }
        self.elements = elements
    }

    /// The values of `keys` among the top-level fields of the object in `bytes[range]` (absent keys are
    /// missing from the answer); nil when the element is not an object. Other fields are skipped, not parsed.
    public static func fields(_ keys: Set<String>, of bytes: [UInt8], in range: Range<Int>) throws -> [String: JSONValue]? {
        try bytes.withUnsafeBufferPointer { whole in
            var p = JSONParser(UnsafeBufferPointer(rebasing: whole[range]))
            guard p.i < p.b.count, p.b[p.i] == UInt8(ascii: "{") else { return nil }
            var found: [String: JSONValue] = [:]
            try p.members { k, p in
                if keys.contains(k) { found[k] = try p.value(depth: 1) } else { try p.skipValue(depth: 1) }
            }
            return found
        }
    }
}

extension JSONParser {
    /// Steps over one value, checking its structure, building nothing.
    mutating func skipValue(depth: Int) throws {
        guard depth < 512 else { throw error("nested too deeply") }
        guard i < b.count else { throw error("unexpected end") }
        switch b[i] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let isObject = b[i] == UInt8(ascii: "{")
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            i += 1
            skipSpace()
            if i < b.count, b[i] == close { i += 1; return }
            while true {
                skipSpace()
                if isObject {
                    guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw error("expected a key") }
                    try skipString()
                    skipSpace()
                    guard i < b.count, b[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
                    i += 1
                    skipSpace()
                }
                try skipValue(depth: depth + 1)
                skipSpace()
                guard i < b.count else { throw error("unexpected end") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == close { i += 1; return }
                throw error(isObject ? "expected ',' or '}'" : "expected ',' or ']'")
            }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default:
            let start = i
            if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
            while i < b.count {
                let c = b[i]
                if (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                    i += 1
                } else {
                    break
                }
            }
            guard i > start, b[i - 1] >= 0x30 && b[i - 1] <= 0x39 else { throw error("unexpected character") }
        }
    }

    mutating func skipString() throws {
        i += 1
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return }
            if c == UInt8(ascii: "\\") { i += 2; continue }
            i += 1
        }
        throw error("unterminated string")
    }
}
