import Crypto
import Foundation

/// The keys that seal secret config values (AES-256-GCM), kept outside the database: a key file (mode 0600)
/// or the environment. The first key seals new values; the others still open values sealed before a rotation.
public struct SecretKeyRing: Sendable {
    public struct Key: Sendable {
        /// A short name of the key (from its SHA-256): sealed values say which key sealed them.
        public let id: String
        let key: SymmetricKey
        var base64: String { key.withUnsafeBytes { Data($0).base64EncodedString() } }
    }

    /// Where the keys came from: said in errors, and the file a reload reads again.
    public enum Origin: Sendable, Equatable, CustomStringConvertible {
        case file(String)
        case environment
        case given

        public var description: String {
            switch self {
            case .file(let path): "the key file \(path)"
            case .environment: "SYNCHOST_SECRET_KEY"
            case .given: "the given key"
            }
        }
    }

    public let keys: [Key]
    public let origin: Origin
    public var primary: Key { keys[0] }

    public init(keys: [SymmetricKey], origin: Origin) throws {
        guard !keys.isEmpty else { throw HostError.invalid("\(origin) holds no key") }
        self.keys = keys.map { Key(id: Self.id(of: $0), key: $0) }
        self.origin = origin
    }

    public func key(id: String) -> Key? { keys.first { $0.id == id } }

    static func id(of key: SymmetricKey) -> String {
        let digest = key.withUnsafeBytes { SHA256.hash(data: Data($0)) }
        return digest.prefix(6).map { String(format: "%02x", $0) }.joined()
    }

    public static func newKey() -> SymmetricKey { SymmetricKey(size: .bits256) }

    /// One base64 key (32 bytes) per line or comma-separated, newest first; blank lines and `#` comments ignored.
    public static func parse(_ text: String, origin: Origin) throws -> SecretKeyRing {
        var keys: [SymmetricKey] = []
        let lines = text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
        for item in lines.flatMap({ $0.split(separator: ",") }).map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            guard let bytes = Data(base64Encoded: item), bytes.count == 32 else {
                throw HostError.invalid("\(origin): each key must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)")
            }
            keys.append(SymmetricKey(data: bytes))
        }
        return try SecretKeyRing(keys: keys, origin: origin)
    }

    /// The ring as SYNCHOST_SECRET_KEY holds it.
    var environmentText: String { keys.map(\.base64).joined(separator: ",") }

    /// The ring as a key file holds it.
    public var fileText: String {
        "# synchost secret keys: the first seals, the others open older values. Keep this file safe and private.\n"
            + keys.map { $0.base64 + "\n" }.joined()
    }

    /// The ring in `file`; nil when there is no such file.
    public static func load(file: URL) throws -> SecretKeyRing? {
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw HostError.unavailable("cannot read the key file \(file.path): \(error.localizedDescription)")
        }
        return try parse(text, origin: .file(file.path))
    }

    /// Creates `file` holding this ring (mode 0600) unless it exists: returns false, leaving the file alone, when
    /// another process made it first (two hosts opening a new database at once must not each keep a key of its own).
    public func create(at file: URL) throws -> Bool {
        let temporary = try writeTemporary(beside: file)
        defer { try? FileManager.default.removeItem(at: temporary) }
        // link(2) fails when the name exists: the first complete file wins, and no reader sees half of one.
        if link(temporary.path, file.path) == 0 { return true }
        if errno == EEXIST { return false }
        throw HostError.unavailable("cannot create the key file \(file.path): \(String(cString: strerror(errno)))")
    }

    private func writeTemporary(beside file: URL) throws -> URL {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(fileText.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw HostError.unavailable("cannot write the key file \(file.path)")
        }
        return temporary
    }

    /// Writes the ring to `file` (mode 0600) by renaming a complete new file over it: a reader sees the old
    /// ring or the new one, never half of one (a rotation).
    public func write(to file: URL) throws {
        let temporary = try writeTemporary(beside: file)
        guard rename(temporary.path, file.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw HostError.unavailable("cannot write the key file \(file.path): \(reason)")
        }
    }
}
