import Foundation

/// Connector and notifier instances (their configuration) in the host's database.
public protocol InstanceStore: Sendable {
    /// Creates the instance and its schedules in one transaction; conflict if the id exists.
    func createInstance(_ instance: InstanceRecord, schedules: [ScheduleRecord]) async throws
    func instance(id: String) async throws -> InstanceRecord?
    func instances() async throws -> [InstanceRecord]
    func updateInstance(_ instance: InstanceRecord) async throws
    /// An enabled instance whose on-create hook waited: true once, for the caller that is to run it now.
    func claimInitialHook(id: String) async throws -> Bool
    /// Deletes the instance and its schedules (and cancels its queued runs); its data only when asked to.
    func deleteInstance(id: String, purgeData: Bool, now: Date) async throws
    /// Tells the store which config keys of a plugin are secret (sealed before they are written).
    func knowSecretKeys(_ provider: @escaping @Sendable (String) -> Set<String>?)
}
