import Foundation
import PluginAPI

/// One message for one channel (a notifier instance), persisted before any delivery attempt.
public struct OutboxNotification: Sendable, Equatable {
    public enum State: String, Sendable, Codable, CaseIterable {
        /// Waiting for its first attempt.
        case pending
        /// Claimed by a host and being delivered.
        case sending
        case sent
        /// The last attempt failed; another is due at `nextAttemptAt`.
        case failed
        /// Out of attempts, or refused for good (channel disabled, unknown channel); kept with its error.
        case dead
        /// The channel cannot tell whether it went out (e.g. an SMS timeout): never retried blindly.
        case unknown

        public var isFinal: Bool { [.sent, .dead, .unknown].contains(self) }
    }

    public var id: String
    public var channel: String
    public var sourceInstance: String?
    public var dedupKey: String?
    public var message: OutgoingMessage
    public var state: State
    public var attempts: Int
    public var maxAttempts: Int
    public var nextAttemptAt: Date?
    public var lastError: String?
    public var detail: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var sentAt: Date?
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?

    public init(channel: String, sourceInstance: String?, dedupKey: String?, message: OutgoingMessage, maxAttempts: Int, now: Date = Date()) {
        id = "ntf_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20).lowercased()
        self.channel = channel
        self.sourceInstance = sourceInstance
        self.dedupKey = dedupKey
        self.message = message
        state = .pending
        attempts = 0
        self.maxAttempts = maxAttempts
        nextAttemptAt = now
        createdAt = now
        updatedAt = now
    }
}

public struct NotificationQuery: Sendable {
    public var state: OutboxNotification.State?
    public var channel: String?
    public var limit = 50
    /// Notifications created before this one (the previous page's last id).
    public var before: String?
    public init() {}
}

/// The outbox's storage, implemented by both backends.
public protocol OutboxStore: Sendable {
    /// Inserts the notifications; one already queued under the same channel and dedup key is kept instead.
    /// Returns the ids in order (the existing id for a duplicate).
    func enqueue(_ notifications: [OutboxNotification]) async throws -> [String]
    /// Claims due notifications (pending or failed and due, or sending with an expired lease).
    func claimDueNotifications(now: Date, owner: String, leaseUntil: Date, limit: Int) async throws -> [OutboxNotification]
    func updateNotification(_ n: OutboxNotification) async throws
    func notification(id: String) async throws -> OutboxNotification?
    func notifications(_ query: NotificationQuery) async throws -> [OutboxNotification]
    /// How many are waiting to be delivered (pending, sending, failed).
    func outboxDepth() async throws -> Int
}
