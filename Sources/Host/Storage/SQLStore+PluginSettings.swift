import Foundation

/// Plugin settings as `host_meta` rows named `plugin.isolation.<file stem>`.
extension SQLStore: PluginSettingStore {
    static let isolationPrefix = "plugin.isolation."

    public func pluginIsolation() async throws -> [String: String] {
        let rows = try await rows("SELECT name, value FROM host_meta WHERE name LIKE ?", [.text(Self.isolationPrefix + "%")])
        return Dictionary(rows.compactMap { r in r.text(0).map { (String($0.dropFirst(Self.isolationPrefix.count)), r.text(1) ?? "") } },
                          uniquingKeysWith: { a, _ in a })
    }

    public func setPluginIsolation(_ plugin: String, fileStem: String, mode: String, now: Date) async throws {
        let before = try await pluginIsolation()[fileStem]
        try await write { s in
            try await s.execute("""
                INSERT INTO host_meta (name, value, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """, [.text(Self.isolationPrefix + fileStem), .text(mode), .int(now.millis)])
            try await Self.audit(s, "plugin.isolation", plugin, before: before.map { ["isolation": .string($0)] }, after: ["isolation": .string(mode)])
        }
    }
}
