import Foundation
import Testing

@testable import Host

@Suite("Plugin file fingerprints")
struct PluginFingerprintTests {
    @Test func theSameBytesGiveTheSameFingerprintAndAFileRewrittenInPlaceAnother() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fp-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.so"), b = dir.appendingPathComponent("b.so")
        // Over a megabyte: read in more than one piece.
        let bytes = (0..<1_500_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: a)
        try Data(bytes).write(to: b)
        let first = PluginDiscovery.fingerprint(of: a)
        #expect(first == PluginDiscovery.fingerprint(of: b) && first.hasSuffix("-1500000"))
        // FNV-1a 64 of the bytes, as before it was read in pieces.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        #expect(first == String(hash, radix: 16) + "-1500000")
        // Copied over in place (truncated, then written): another fingerprint.
        let handle = try FileHandle(forWritingTo: a)
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(bytes.reversed()))
        try handle.close()
        #expect(PluginDiscovery.fingerprint(of: a) != first)
        #expect(PluginDiscovery.fingerprint(of: dir.appendingPathComponent("missing.so")) == "unreadable")
    }
}
