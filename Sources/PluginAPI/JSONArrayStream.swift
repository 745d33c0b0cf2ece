/// `JSONElementScan` for an answer that arrives in pieces (`HTTPBodyStream`): the elements of the array under
/// `arrayKey` in the top-level object (or in the object a one-element array wraps) come out as soon as their
/// last byte is in, each checked to be well-formed JSON; the rest of the object is parsed at the end. Only the
/// element that is still incomplete is held, so memory is one piece plus one element, whatever the answer's size.
public struct JSONArrayStream: Sendable {
    let key: [UInt8]
    /// The bytes not yet let go of; `feed` answers ranges into it, valid until the next `feed`.
    public private(set) var buffer: [UInt8] = []
    /// Bytes dropped from the front of `buffer` so far (for error offsets).
    var dropped = 0
    var pos = 0
    var depth = 0
    var inString = false
    var escaped = false
    /// Depth of the top-level object's members: 1, or 2 inside a wrapping array (unknown before the first byte).
    var base: Int?
    var expectKey = false
    var keyStart: Int?
    var lastKey: [UInt8] = []
    var inArray = false
    var afterElement = false
    var needElement = false
    var arrayDone = false
    var elementStart: Int?
    var closed = false
    /// The object without the array's elements; `restFrom` is where in `buffer` its next bytes start (nil
    /// while inside the array).
    var rest: [UInt8] = []
    var restFrom: Int? = 0
    var head: [UInt8] = []

    public init(arrayKey: String) { key = Array(arrayKey.utf8) }

    /// Takes the next piece; answers where each element completed by it lies in `buffer`.
    public mutating func feed(_ piece: [UInt8]) throws -> [Range<Int>] {
        if head.count < 120 { head.append(contentsOf: piece.prefix(120 - head.count)) }
        compact()
        buffer.append(contentsOf: piece)
        if let s = elementStart {  // the element the last piece cut off: try it again whole
            pos = s
            elementStart = nil
        }
        var found: [Range<Int>] = []
        let n = buffer.count
        while pos < n {
            let c = buffer[pos]
            if inString {
                if escaped {
                    escaped = false
                } else if c == UInt8(ascii: "\\") {
                    escaped = true
                } else if c == UInt8(ascii: "\"") {
                    inString = false
                    if let k = keyStart {
                        lastKey = Array(buffer[(k + 1)..<pos])
                        keyStart = nil
                    }
                }
                pos += 1
                continue
            }
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 {
                pos += 1
                continue
            }
            if inArray && c != UInt8(ascii: ",") && c != UInt8(ascii: "]") {
                // An element: stepped over by the validating scanner in one go when all of it is here.
                guard !afterElement else { throw error("expected ',' or ']'") }
                guard let end = try elementEnd(from: pos) else {
                    elementStart = pos
                    break
                }
                found.append(pos..<end)
                afterElement = true
                needElement = false
                pos = end
                continue
            }
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if closed { throw error("trailing characters") }
                if base == nil { base = c == UInt8(ascii: "[") ? 2 : 1 }
                if depth == base! - 1 {
                    guard c == UInt8(ascii: "{") else { throw error("expected an object") }
                    expectKey = true
                } else if depth == base!, c == UInt8(ascii: "["), lastKey == key, !arrayDone {
                    inArray = true
                    afterElement = false
                    needElement = false
                    if let r = restFrom { rest.append(contentsOf: buffer[r...pos]) }
                    restFrom = nil
                }
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if inArray {  // only ']' reaches here inside the array: it closes it
                    guard !needElement else { throw error("expected a value after ','") }
                    inArray = false
                    arrayDone = true
                    restFrom = pos
                }
                depth -= 1
                if depth < 0 { throw error("unexpected '\(Character(Unicode.Scalar(c)))'") }
                if depth == 0 { closed = true }
            case UInt8(ascii: ","):
                if inArray {
                    guard afterElement else { throw error("unexpected ','") }
                    afterElement = false
                    needElement = true
                } else if depth == base {
                    expectKey = true
                }
            case UInt8(ascii: "\""):
                if closed || base == nil { throw error(base == nil ? "expected an object" : "trailing characters") }
                inString = true
                if depth == base, expectKey {
                    keyStart = pos
                    expectKey = false
                }
            default:
                if closed || base == nil { throw error(base == nil ? "expected an object" : "trailing characters") }
            }
            pos += 1
        }
        return found
    }

    /// Where the element starting at `start` ends, checked to be well-formed; nil when its end (or the ',' or
    /// ']' after it) is not in the buffer yet.
    private func elementEnd(from start: Int) throws -> Int? {
        try buffer.withUnsafeBufferPointer { whole in
            var p = JSONParser(UnsafeBufferPointer(rebasing: whole[start...]))
            do {
                try p.skipValue(depth: 2)
            } catch {
                if Self.endsBeyond(whole, from: start) { return nil }
                throw PluginError(.upstream, "invalid JSON at byte \(dropped + start + min(p.i, p.b.count)): \((error as? PluginError)?.message ?? "\(error)")")
            }
            let end = start + p.i
            p.skipSpace()
            return p.i < p.b.count ? end : nil  // a number may go on in the next piece
        }
    }

    /// Whether the value starting at `start` runs past the end of `bytes` (its brackets or string unclosed, or a
    /// literal cut short): the scanner failed for want of bytes, not because they are wrong.
    static func endsBeyond(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Bool {
        var depth = 0, inString = false, escaped = false, i = start
        while i < bytes.count {
            let c = bytes[i]
            if inString {
                if escaped { escaped = false } else if c == UInt8(ascii: "\\") { escaped = true } else if c == UInt8(ascii: "\"") { inString = false; if depth == 0 { return false } }
            } else if c == UInt8(ascii: "\"") {
                inString = true
            } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                depth += 1
            } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                depth -= 1
                if depth <= 0 { return false }
            } else if depth == 0 && (c == UInt8(ascii: ",") || c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09) {
                return false  // a scalar that ended
            }
            i += 1
        }
        return true
    }

    /// The top-level object without the array, parsed, once the whole answer was fed.
    public mutating func finish() throws -> JSONValue {
        guard closed, !inString else { throw error("unexpected end") }
        compact()
        var value = try JSONValue.parse(rest)
        if base == 2 {
            guard case .array(let a) = value, a.count == 1 else { throw error("expected one object in the array") }
            value = a[0]
        }
        guard arrayDone, var o = value.objectValue else { return value }
        o[String(decoding: key, as: UTF8.self)] = nil
        return .object(o)
    }

    /// The answer's first bytes, to show in an error.
    public var preview: String { String(decoding: head, as: UTF8.self) }

    private func error(_ what: String) -> PluginError {
        PluginError(.upstream, "invalid JSON at byte \(dropped + pos): \(what)")
    }

    /// Lets go of every byte no element, key or rest still needs.
    private mutating func compact() {
        if let r = restFrom, r < buffer.count {
            rest.append(contentsOf: buffer[r..<buffer.count])
            restFrom = buffer.count
        }
        let keep = min(elementStart ?? pos, keyStart ?? pos)
        guard keep > 0 else { return }
        buffer.removeSubrange(0..<keep)
        dropped += keep
        pos -= keep
        elementStart = elementStart.map { $0 - keep }
        keyStart = keyStart.map { $0 - keep }
        restFrom = restFrom.map { $0 - keep }
    }
}
