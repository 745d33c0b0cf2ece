import Crypto
import Foundation
import PluginAPI
import Synchronization

/// Seals and opens secret values with the key ring. A sealed value is a string
/// `sh-sealed:v1:<key id>:<base64 of nonce | ciphertext | tag>`; the clear text is the value's JSON, and what it
/// belongs to (the instance and config key) is bound in as associated data, so a sealed value copied elsewhere
/// does not open. A value sealed under a key this process does not have makes it read its key file again (a
/// rotation by `synchost secrets rotate` in another process).
public final class SecretSealer: Sendable {
    static let prefix = "sh-sealed:v1:"
    private let ring: Mutex<SecretKeyRing>

    public init(ring: SecretKeyRing) { self.ring = Mutex(ring) }

    public var keyRing: SecretKeyRing { ring.withLock { $0 } }

    /// Replaces the ring (after a rotation in this process).
    func replace(_ new: SecretKeyRing) { ring.withLock { $0 = new } }

    public static func isSealed(_ value: JSONValue) -> Bool {
        if case .string(let s) = value { return s.hasPrefix(prefix) }
        return false
    }

    /// `value` sealed under the ring's first key.
    public func seal(_ value: JSONValue, context: String) throws -> JSONValue {
        let key = keyRing.primary
        let box = try AES.GCM.seal(value.jsonBytes, using: key.key, authenticating: Array(context.utf8))
        guard let combined = box.combined else { throw HostError.unavailable("AES-GCM gave no combined box") }
        return .string(Self.prefix + key.id + ":" + combined.base64EncodedString())
    }

    /// The value a sealed string holds; anything else is returned as it is.
    public func open(_ value: JSONValue, context: String) throws -> JSONValue {
        guard case .string(let s) = value, s.hasPrefix(Self.prefix) else { return value }
        let rest = s.dropFirst(Self.prefix.count)
        guard let colon = rest.firstIndex(of: ":"), let combined = Data(base64Encoded: String(rest[rest.index(after: colon)...])) else {
            throw HostError.invalid("a sealed secret (\(context)) is malformed")
        }
        let id = String(rest[..<colon])
        guard let key = try key(id: id) else {
            throw HostError.unavailable("a secret (\(context)) is sealed under key \(id), which \(keyRing.origin) does not hold: restore the key that sealed it")
        }
        do {
            let clear = try AES.GCM.open(try AES.GCM.SealedBox(combined: combined), using: key.key, authenticating: Array(context.utf8))
            return try WireJSON.decode(JSONValue.self, from: Array(clear))
        } catch {
            throw HostError.unavailable("a secret (\(context)) does not open with key \(id): the stored value was altered or belongs elsewhere")
        }
    }

    /// The key `id`, reading the key file again when the ring in memory does not have it.
    private func key(id: String) throws -> SecretKeyRing.Key? {
        let current = keyRing
        if let k = current.key(id: id) { return k }
        guard case .file(let path) = current.origin, let reloaded = try SecretKeyRing.load(file: URL(fileURLWithPath: path)) else { return nil }
        replace(reloaded)
        return reloaded.key(id: id)
    }

    // MARK: configs

    static func context(instance: String, key: String) -> String { "config:\(instance):\(key)" }

    /// The config with the values at `secretKeys` sealed (null and already sealed values are left as they are).
    func sealed(_ config: [String: JSONValue], instance: String, secretKeys: Set<String>) throws -> [String: JSONValue] {
        var out = config
        for key in secretKeys {
            guard let v = config[key], v != .null, !Self.isSealed(v) else { continue }
            out[key] = try seal(v, context: Self.context(instance: instance, key: key))
        }
        return out
    }

    /// The config with every sealed value opened.
    func opened(_ config: [String: JSONValue], instance: String) throws -> [String: JSONValue] {
        var out = config
        for (key, v) in config where Self.isSealed(v) {
            out[key] = try open(v, context: Self.context(instance: instance, key: key))
        }
        return out
    }
}
