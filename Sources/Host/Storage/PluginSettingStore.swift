import Foundation

/// Per-plugin settings an operator changes at run time (`PATCH /api/v1/plugins/{name}`): today how it runs,
/// `in-process` or `process`. Kept in the database, so every replica and every restart uses the same.
public protocol PluginSettingStore: Sendable {
    /// Plugin file stem (`libVOS.so` → `vos`, what `--isolate` matches before a file is loaded) → `in-process` |
    /// `process`, for the plugins whose mode was set.
    func pluginIsolation() async throws -> [String: String]
    /// Sets it for the plugin loaded from the file of that stem; audited under the plugin's name.
    func setPluginIsolation(_ plugin: String, fileStem: String, mode: String, now: Date) async throws
}
