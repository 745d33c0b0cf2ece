import Foundation

/// The admin API's bearer token: from the config / `SYNCHOST_ADMIN_TOKEN`, else generated at first start,
/// stored in the data directory (mode 0600) and printed once.
public enum AdminToken {
    public struct Resolved: Sendable {
        public var token: String
        /// True when this start generated it (the caller prints it once).
        public var generated: Bool
    }

    public static func resolve(explicit: String?, dataDirectory: URL) throws -> Resolved {
        if let t = explicit ?? ProcessInfo.processInfo.environment["SYNCHOST_ADMIN_TOKEN"], !t.isEmpty {
            return Resolved(token: t, generated: false)
        }
        let file = dataDirectory.appendingPathComponent("admin-token")
        if let stored = try? String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !stored.isEmpty {
            return Resolved(token: stored, generated: false)
        }
        var rng = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: file.path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw HostError.unavailable("cannot write the admin token file \(file.path)")
        }
        return Resolved(token: token, generated: true)
    }

    /// Compares in time independent of where the texts differ; the expected token's bytes are kept by the caller
    /// (this runs on every request).
    static func matches(_ given: String.UTF8View, _ expected: [UInt8]) -> Bool {
        var diff = UInt8(given.count == expected.count ? 0 : 1)
        var i = 0
        for byte in given {
            if i < expected.count { diff |= byte ^ expected[i] }
            i += 1
        }
        // Every expected byte is looked at even when the given one is shorter.
        while i < expected.count { diff |= expected[i]; i += 1 }
        return diff == 0
    }
}
