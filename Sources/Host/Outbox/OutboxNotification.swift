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

/// A notification as a row: shared by both backends.
enum NotificationRow {
    static let names = ["id", "channel", "source_instance", "dedup_key", "message", "state", "attempts", "max_attempts", "next_attempt_at",
                        "last_error", "detail", "created_at", "updated_at", "sent_at", "lease_owner", "lease_expires_at"]
    static let columns = names.joined(separator: ", ")

    static func placeholders(_ d: SQLDialect) -> String { (1...names.count).map { d == .sqlite ? "?" : "$\($0)" }.joined(separator: ", ") }

    static func assignments(_ d: SQLDialect) -> String {
        names.dropFirst().enumerated().map { i, n in "\(n) = \(d == .sqlite ? "?" : "$\(i + 1)")" }.joined(separator: ", ")
    }

    static func values(_ n: OutboxNotification) -> [KeysetPlan.Argument?] {
        func text(_ s: String?) -> KeysetPlan.Argument? { s.map { .text($0) } }
        func int(_ d: Date?) -> KeysetPlan.Argument? { d.map { .int($0.millis) } }
        let message = (try? WireJSON.encode(n.message)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return [.text(n.id), .text(n.channel), text(n.sourceInstance), text(n.dedupKey), .text(message), .text(n.state.rawValue),
                .int(Int64(n.attempts)), .int(Int64(n.maxAttempts)), int(n.nextAttemptAt), text(n.lastError), text(n.detail),
                .int(n.createdAt.millis), .int(n.updatedAt.millis), int(n.sentAt), text(n.leaseOwner), int(n.leaseExpiresAt)]
    }

    static func decode(_ v: [KeysetPlan.Argument?]) -> OutboxNotification {
        func text(_ i: Int) -> String? { if case .text(let s)? = v[i] { return s }; return nil }
        func int(_ i: Int) -> Int64? { if case .int(let n)? = v[i] { return n }; return nil }
        let message = text(4).flatMap { try? WireJSON.decode(OutgoingMessage.self, from: Array($0.utf8)) } ?? OutgoingMessage(text: "")
        var n = OutboxNotification(channel: text(1) ?? "", sourceInstance: text(2), dedupKey: text(3), message: message, maxAttempts: Int(int(7) ?? 1))
        n.id = text(0) ?? ""
        n.state = OutboxNotification.State(rawValue: text(5) ?? "") ?? .dead
        n.attempts = Int(int(6) ?? 0)
        n.nextAttemptAt = int(8).map(Date.init(millis:))
        n.lastError = text(9)
        n.detail = text(10)
        n.createdAt = Date(millis: int(11) ?? 0)
        n.updatedAt = Date(millis: int(12) ?? 0)
        n.sentAt = int(13).map(Date.init(millis:))
        n.leaseOwner = text(14)
        n.leaseExpiresAt = int(15).map(Date.init(millis:))
        return n
    }

    /// WHERE for a list query, and its arguments (after none).
    static func filter(_ q: NotificationQuery, _ d: SQLDialect) -> (String, [KeysetPlan.Argument?]) {
        var sql = "1 = 1"
        var args: [KeysetPlan.Argument?] = []
        func p() -> String { d == .sqlite ? "?" : "$\(args.count)" }
        if let s = q.state { args.append(.text(s.rawValue)); sql += " AND state = \(p())" }
        if let c = q.channel { args.append(.text(c)); sql += " AND channel = \(p())" }
        if let b = q.before { args.append(.text(b)); sql += " AND (created_at, id) < (SELECT created_at, id FROM notifications WHERE id = \(p()))" }
        return (sql, args)
    }

    static let due = "((state IN ('pending', 'failed') AND next_attempt_at <= $NOW) OR (state = 'sending' AND lease_expires_at < $NOW))"
}
