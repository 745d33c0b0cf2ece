import Crypto
import Foundation

/// A named API token. Only its SHA-256 is stored: the token itself is shown once, when it is created.
public struct APIToken: Sendable, Equatable {
    public var id: String
    public var name: String
    public var role: AccessRole
    public var hash: String
    public var createdAt: Date
    public var createdBy: String
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    /// Named tokens start with this, so a header that is not one is refused without a database read.
    public static let prefix = "sht_"

    /// A new token for `name`: the record to store and the token text to show once.
    public static func issue(name: String, role: AccessRole, by actor: String, now: Date) throws -> (APIToken, String) {
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) else {
            throw HostError.invalid("token name must be 1-64 letters, digits, - _ . or @")
        }
        var rng = SystemRandomNumberGenerator()
        let text = prefix + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        let token = APIToken(id: "tok_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16), name: name, role: role,
                             hash: hash(of: text), createdAt: now, createdBy: actor)
        return (token, text)
    }

    public static func hash(of text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
