/// The binary framing used where JSON alone would be wasteful (HTTP bodies, pages of records):
/// a sequence of frames, each a little-endian UInt32 length followed by that many bytes.
/// Documented in docs/writing-a-plugin.md ("Binary framing").
public struct FrameWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public mutating func append<C: Collection>(_ frame: C) where C.Element == UInt8 {
        let n = UInt32(frame.count)
        bytes.append(UInt8(truncatingIfNeeded: n))
        bytes.append(UInt8(truncatingIfNeeded: n >> 8))
        bytes.append(UInt8(truncatingIfNeeded: n >> 16))
        bytes.append(UInt8(truncatingIfNeeded: n >> 24))
        bytes.append(contentsOf: frame)
    }

    public mutating func append(_ string: String) { append(Array(string.utf8)) }

    /// One frame whose bytes `fill` appends as they arrive (a body read in chunks), its length written after:
    /// no buffer of its own. `fill` must only append.
    public mutating func appendFrame(_ fill: (inout [UInt8]) async throws -> Void) async rethrows {
        let at = bytes.count
        bytes.append(contentsOf: [0, 0, 0, 0])
        try await fill(&bytes)
        let n = UInt32(bytes.count - at - 4)
        for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: n >> (8 * i)) }
    }
}

public struct FrameReader: Sendable {
    let bytes: [UInt8]
    var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { offset >= bytes.count }

    /// The next frame, or an `.invalid` error naming the offset when the framing is broken.
    public mutating func next() throws(PluginError) -> ArraySlice<UInt8> {
        guard bytes.count - offset >= 4 else {
            throw PluginError(.invalid, "framing: truncated length at byte \(offset)")
        }
        let n =
            Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16
            | Int(bytes[offset + 3]) << 24
        offset += 4
        guard bytes.count - offset >= n else {
            throw PluginError(.invalid, "framing: frame of \(n) bytes at byte \(offset - 4) runs past the end")
        }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    /// The last frame as an array of its own, taken out of `bytes` in place (no second buffer the size of a
    /// large body); `bytes` must hold exactly that frame from `offset` on.
    public static func lastFrame(of bytes: inout [UInt8], from offset: Int) throws(PluginError) -> [UInt8] {
        let start: Int
        do {
            // Scoped: nothing else may hold the buffer when it is shortened, or it would be copied.
            var reader = FrameReader(bytes)
            reader.offset = offset
            let frame = try reader.next()
            guard reader.isAtEnd else { throw PluginError(.invalid, "framing: \(bytes.count - reader.offset) bytes after the last frame") }
            start = frame.startIndex
        }
        bytes.removeSubrange(0..<start)
        return bytes
    }
}
