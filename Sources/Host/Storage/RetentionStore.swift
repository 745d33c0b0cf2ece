import Foundation
import PluginAPI

/// How long collections keep their records: instances' overrides of the manifests' defaults, and the purges the
/// host's retention job makes.
public protocol RetentionStore: Sendable {
    /// The instance's overrides, by collection.
    func retentionOverrides(instance: String) async throws -> [String: RetentionSpec]
    /// Sets (or with nil, removes) an instance's override of a collection's retention; audited.
    func setRetention(instance: String, collection: String, _ spec: RetentionSpec?, now: Date) async throws
    /// Removes live records older than the policy — by `field` (as text, against `cutoffText`) or else by
    /// `synced_at` (against `cutoff`) — except those synced at or after `keepSyncedSince` (the latest complete
    /// run's start: what it saw stays); how many.
    func purgeExpired(instance: String, collection: String, field: String?, cutoff: Date, cutoffText: String, keepSyncedSince: Date?) async throws -> Int
    /// Removes delivered and given-up notifications last updated before `cutoff`; how many.
    func purgeNotifications(before cutoff: Date) async throws -> Int
}
