import Foundation
import PluginAPI

/// Secret config values are sealed before they are written (`SecretSealer`) and opened when read: the database —
/// its file, its WAL, a dump — never holds them in clear. A check value sealed with the key tells, at open, whether
/// the key given is the one that sealed this database's secrets.
extension SQLStore {
    static let keyCheckName = "secret_key_check"
    static let keyCheckContext = "key-check"

    /// The sealer this store writes with (nil for a store opened without one).
    var sealer: SecretSealer? { secrets.withLock { $0.sealer } }

    /// Which config keys of a plugin are secret (the kernel answers from the loaded manifests). A second kernel on
    /// the same store object (tests share one PostgreSQL pool) is asked first; one that does not know the plugin
    /// defers to the one before it.
    public func knowSecretKeys(_ provider: @escaping @Sendable (String) -> Set<String>?) {
        secrets.withLock { s in
            let earlier = s.keysOf
            s.keysOf = { plugin in provider(plugin) ?? earlier?(plugin) }
        }
    }

    /// The key ring for this database: checked against the database's check value, or — for a database that has
    /// none yet — taken (or created in `source`'s file) and its check value written. A key that does not open the
    /// check value is refused and nothing is changed.
    func attachSecrets(_ source: SecretKeySource, location: DatabaseLocation) async throws {
        let (given, file) = try source.resolve(for: location)
        var ring = try given ?? file.flatMap { try SecretKeyRing.load(file: $0) }
        let missing = file.map { "the key file \($0.path) does not exist" } ?? "no key was given"
        if let check = try await rows("SELECT value FROM host_meta WHERE name = ?", [.text(Self.keyCheckName)]).first?.text(0) {
            let id = Self.keyID(ofSealed: check)
            guard let ring else {
                throw HostError.unavailable("this database's secrets are sealed under key \(id), and \(missing): restore it, or set SYNCHOST_SECRET_KEY / SYNCHOST_SECRET_KEY_FILE to the key that sealed them")
            }
            let sealer = SecretSealer(ring: ring)
            guard (try? sealer.open(.string(check), context: Self.keyCheckContext)) != nil else {
                throw HostError.unavailable("wrong secret key: this database's secrets are sealed under key \(id), and \(ring.origin) holds \(ring.keys.map(\.id).joined(separator: ", ")); start with the key that sealed them (nothing was changed)")
            }
            secrets.withLock { $0.sealer = sealer }
            return
        }
        if ring == nil {
            guard let file else { throw HostError.invalid("no secret key: set SYNCHOST_SECRET_KEY or SYNCHOST_SECRET_KEY_FILE") }
            let new = try SecretKeyRing(keys: [SecretKeyRing.newKey()], origin: .file(file.path))
            // Another process opening this new database at the same moment may have made the file first: use its key.
            ring = try new.create(at: file) ? new : SecretKeyRing.load(file: file)
        }
        let sealer = SecretSealer(ring: ring!)
        let check = try sealer.seal(.string("synchost"), context: Self.keyCheckContext)
        try await write("INSERT INTO host_meta (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                        [.text(Self.keyCheckName), .text(check.stringValue ?? ""), .int(Date().millis)])
        // Replicas starting together on a new database: the first check written is the one that counts.
        let stored = try await rows("SELECT value FROM host_meta WHERE name = ?", [.text(Self.keyCheckName)]).first?.text(0) ?? ""
        guard (try? sealer.open(.string(stored), context: Self.keyCheckContext)) != nil else {
            throw HostError.unavailable("wrong secret key: another host sealed this database's secrets under key \(Self.keyID(ofSealed: stored)) just now (nothing was changed)")
        }
        secrets.withLock { $0.sealer = sealer }
    }

    static func keyID(ofSealed value: String) -> String {
        value.dropFirst(SecretSealer.prefix.count).split(separator: ":").first.map(String.init) ?? "?"
    }

    /// The config as stored: secret values sealed. Without a sealer (a bare store in a test) it is stored as given.
    func storedConfig(_ i: InstanceRecord) throws -> SQLValue {
        let (sealer, keysOf) = secrets.withLock { ($0.sealer, $0.keysOf) }
        guard let sealer, let keysOf else { return .bytes(JSONValue.object(i.config).jsonBytes) }
        guard let secretKeys = keysOf(i.plugin) else {
            throw HostError.unavailable("plugin \(i.plugin) is not loaded: which of its config values are secret is unknown, so the config was not written")
        }
        return .bytes(JSONValue.object(try sealer.sealed(i.config, instance: i.id, secretKeys: secretKeys)).jsonBytes)
    }

    /// Seals the secret values a database written before sealing holds in clear (an upgrade); how many instances
    /// changed. On SQLite the write-ahead log is then emptied, so no old page keeps a value in clear.
    public func sealClearSecrets() async throws -> Int {
        guard let sealer, let keysOf = secrets.withLock({ $0.keysOf }) else { return 0 }
        // Looked for with a read: a start that finds nothing in clear (every start but the first) writes nothing.
        let clear = try await rows("SELECT plugin, config FROM instances").contains { row in
            guard let keys = keysOf(row.text(0) ?? ""),
                  let config = try? WireJSON.decode([String: JSONValue].self, from: row.bytes(1) ?? Array("{}".utf8)) else { return false }
            return keys.contains { config[$0].map { $0 != .null && !SecretSealer.isSealed($0) } ?? false }
        }
        guard clear else { return 0 }
        let sealedCount: Int = try await write { s in
            try await self.executor.lock(s, Self.migrationLock)
            var changed = 0
            for row in try await s.query("SELECT id, plugin, config FROM instances") {
                let id = row.text(0) ?? "", plugin = row.text(1) ?? ""
                guard let keys = secrets.withLock({ $0.keysOf })?(plugin) else { continue }
                let config = try WireJSON.decode([String: JSONValue].self, from: row.bytes(2) ?? Array("{}".utf8))
                let sealed = try sealer.sealed(config, instance: id, secretKeys: keys)
                guard sealed != config else { continue }
                try await s.execute("UPDATE instances SET config = ? WHERE id = ?", [.bytes(JSONValue.object(sealed).jsonBytes), .text(id)])
                changed += 1
            }
            return changed
        }
        if sealedCount > 0, let sqlite = executor as? SQLiteExecutor { try await sqlite.truncateLog() }
        return sealedCount
    }

    /// Sealed values per instance (instances with none left out).
    public func sealedValueCounts() async throws -> [String: Int] {
        var out: [String: Int] = [:]
        for row in try await rows("SELECT id, config FROM instances") {
            let config = try WireJSON.decode([String: JSONValue].self, from: row.bytes(1) ?? Array("{}".utf8))
            let n = config.values.filter(SecretSealer.isSealed).count
            if n > 0 { out[row.text(0) ?? ""] = n }
        }
        return out
    }

    /// Re-seals every secret (and the check value) under `ring`'s first key, in one transaction; the values are
    /// opened with the keys this store has (old and new). Returns how many instances were re-sealed.
    public func reseal(under ring: SecretKeyRing) async throws -> Int {
        guard let old = sealer else { throw HostError.unavailable("this store seals no secrets") }
        let merged = try SecretKeyRing(keys: ring.keys.map(\.key) + old.keyRing.keys.filter { ring.key(id: $0.id) == nil }.map(\.key), origin: ring.origin)
        let opener = SecretSealer(ring: merged)
        let target = SecretSealer(ring: ring)
        let count: Int = try await write { s in
            try await self.executor.lock(s, Self.migrationLock)
            var changed = 0
            for row in try await s.query("SELECT id, config FROM instances") {
                let id = row.text(0) ?? ""
                let config = try WireJSON.decode([String: JSONValue].self, from: row.bytes(1) ?? Array("{}".utf8))
                let sealedKeys = Set(config.filter { SecretSealer.isSealed($0.value) }.keys)
                guard !sealedKeys.isEmpty else { continue }
                let resealed = try target.sealed(try opener.opened(config, instance: id), instance: id, secretKeys: sealedKeys)
                try await s.execute("UPDATE instances SET config = ? WHERE id = ?", [.bytes(JSONValue.object(resealed).jsonBytes), .text(id)])
                changed += 1
            }
            let check = try target.seal(.string("synchost"), context: Self.keyCheckContext)
            try await s.execute("UPDATE host_meta SET value = ?, updated_at = ? WHERE name = ?", [.text(check.stringValue ?? ""), .int(Date().millis), .text(Self.keyCheckName)])
            return changed
        }
        old.replace(merged)
        if let sqlite = executor as? SQLiteExecutor { try await sqlite.truncateLog() }
        return count
    }
}
