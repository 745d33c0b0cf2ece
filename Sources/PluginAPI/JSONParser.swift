import Foundation

extension JSONValue {
    /// Parses JSON bytes: a direct byte-level parser, many times faster than `JSONDecoder` into `JSONValue`
    /// (which probes each value's type by throwing), for upstream responses of thousands of records.
    public static func parse<C: Collection>(_ bytes: C) throws -> JSONValue where C.Element == UInt8 {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buf in
            var p = JSONParser(buf)
            p.skipSpace()
            let v = try p.value(depth: 0)
            p.skipSpace()
            guard p.i == buf.count else { throw p.error("trailing characters") }
            return v
        }
    }
}

struct JSONParser {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0

    init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

    func error(_ what: String) -> PluginError { PluginError(.upstream, "invalid JSON at byte \(i): \(what)") }

    mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard depth < 512 else { throw error("nested too deeply") }
        guard i < b.count else { throw error("unexpected end") }
        switch b[i] {
        case UInt8(ascii: "{"):
            var o: [String: JSONValue] = [:]
            try members { k, p in o[k] = try p.value(depth: depth + 1) }
            return .object(o)
        case UInt8(ascii: "["):
            i += 1
            var a: [JSONValue] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            while true {
                skipSpace()
                a.append(try value(depth: depth + 1))
                skipSpace()
                guard i < b.count else { throw error("unexpected end in array") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                throw error("expected ',' or ']'")
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default:
            return try number()
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { throw error("unexpected end") }
        for k in 0..<n where b[i + k] != word.utf8Start[k] { throw error("invalid literal") }
        i += n
    }

    mutating func number() throws -> JSONValue {
        let start = i
        var isInt = true
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        while i < b.count {
            let c = b[i]
            if c >= 0x30 && c <= 0x39 { i += 1 }
            else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { isInt = false; i += 1 }
            else { break }
        }
        guard i > start else { throw error("unexpected character") }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        if isInt, let v = Int64(text) { return .int(v) }
        guard let d = Double(text) else { throw error("invalid number \(text)") }
        return .double(d)
    }

    mutating func string() throws -> String {
        i += 1  // opening quote
        let start = i
        // Fast path: no escapes.
        while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\") { i += 1 }
        guard i < b.count else { throw error("unterminated string") }
        if b[i] == UInt8(ascii: "\"") {
            defer { i += 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        }
        var out = Array(b[start..<i])
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            guard i < b.count else { break }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar), i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                    i += 2
                    let low = try hex4()
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                out.append(contentsOf: Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8))
            default: out.append(e)
            }
        }
        throw error("unterminated string")
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= b.count else { throw error("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw error("bad \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }
}

extension JSONValue {
    /// Parses a top-level object, handing the elements of its array `key` to `each` one at a time instead
    /// of building them all (a 50k-record response stays ~its own size in memory). Returns the object
    /// without that key. A top-level one-element array wrapping the object is stepped into.
    public static func parseStreaming<C: Collection>(_ bytes: C, arrayKey key: String, each: (JSONValue) throws -> Void) throws -> JSONValue
    where C.Element == UInt8 {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buf in
            var p = JSONParser(buf)
            return try p.topLevelObject(arrayKey: key) { p in try each(try p.value(depth: 1)) }
        }
    }
}

extension JSONParser {
    /// Walks the members of the object at the cursor, handing each key to `member` with the cursor on its
    /// value; `member` must step over the value.
    mutating func members(_ member: (String, inout JSONParser) throws -> Void) throws {
        guard i < b.count, b[i] == UInt8(ascii: "{") else { throw error("expected an object") }
        i += 1
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return }
        while true {
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw error("expected a key") }
            let k = try string()
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
            i += 1
            skipSpace()
            try member(k, &self)
            skipSpace()
            guard i < b.count else { throw error("unexpected end in object") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; return }
            throw error("expected ',' or '}'")
        }
    }

    /// The whole input as one object (or a one-element array wrapping it): its members parsed, except the
    /// elements of the array under `key`, each handed to `element` with the cursor on it. Returns the rest.
    mutating func topLevelObject(arrayKey key: String, element: (inout JSONParser) throws -> Void) throws -> JSONValue {
        skipSpace()
        var wrapped = false
        if i < b.count, b[i] == UInt8(ascii: "[") {
            wrapped = true
            i += 1
            skipSpace()
        }
        var o: [String: JSONValue] = [:]
        try members { k, p in
            guard k == key, p.i < p.b.count, p.b[p.i] == UInt8(ascii: "[") else {
                o[k] = try p.value(depth: 1)
                return
            }
            p.i += 1
            p.skipSpace()
            if p.i < p.b.count, p.b[p.i] == UInt8(ascii: "]") { p.i += 1; return }
            while true {
                p.skipSpace()
                try element(&p)
                p.skipSpace()
                guard p.i < p.b.count else { throw p.error("unexpected end in array") }
                if p.b[p.i] == UInt8(ascii: ",") { p.i += 1; continue }
                if p.b[p.i] == UInt8(ascii: "]") { p.i += 1; return }
                throw p.error("expected ',' or ']'")
            }
        }
        skipSpace()
        if wrapped {
            guard i < b.count, b[i] == UInt8(ascii: "]") else { throw error("expected one object in the array") }
            i += 1
            skipSpace()
        }
        guard i == b.count else { throw error("trailing characters") }
        return .object(o)
    }
}
