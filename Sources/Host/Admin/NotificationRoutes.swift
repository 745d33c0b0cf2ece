import Foundation
import Hummingbird
import PluginAPI

/// `/api/v1/notifications`: the outbox — list and read (state, attempts, last error), send a test message
/// to a channel, and retry a dead or unknown one.
struct NotificationRoutes {
    let store: any HostDatabase
    let registry: PluginRegistry
    let outbox: OutboxDispatcher

    struct View: Encodable {
        var id: String
        var channel: String
        var source_instance: String?
        var dedup_key: String?
        var message: MessageView
        var state: String
        var attempts: Int
        var max_attempts: Int
        var next_attempt_at: String?
        var last_error: String?
        var detail: String?
        var created_at: String?
        var sent_at: String?

        init(_ n: OutboxNotification) {
            id = n.id
            channel = n.channel
            source_instance = n.sourceInstance
            dedup_key = n.dedupKey
            message = MessageView(n.message)
            state = n.state.rawValue
            attempts = n.attempts
            max_attempts = n.maxAttempts
            next_attempt_at = n.state.isFinal ? nil : ISOTime.string(n.nextAttemptAt)
            last_error = n.lastError
            detail = n.detail
            created_at = ISOTime.string(n.createdAt)
            sent_at = ISOTime.string(n.sentAt)
        }
    }

    /// The message as queued; attachments by name and size (their bytes stay in the outbox).
    struct MessageView: Encodable {
        struct File: Encodable {
            var filename: String
            var content_type: String
            var size: Int
        }

        var subject: String?
        var text: String
        var format: String
        var recipients: [String]
        var html: String?
        var attachments: [File]?

        init(_ m: OutgoingMessage) {
            subject = m.subject
            text = m.text
            format = m.format
            recipients = m.recipients
            html = m.html
            attachments = m.attachments.isEmpty ? nil : m.attachments.map { File(filename: $0.filename, content_type: $0.contentType, size: $0.data.count) }
        }
    }

    struct ListView: Encodable {
        var notifications: [View]
        var next_cursor: String?
        var depth: Int
    }

    struct TestInput: Decodable {
        var channel: String
        var text: String?
        var subject: String?
        var format: String?
        var recipients: [String]?
    }

    struct Queued: Encodable {
        var ids: [String]
    }

    func add(to api: RouterGroup<AdminRequestContext>) {
        api.get("notifications") { request, _ -> Response in
            let p = request.uri.queryParameters
            var q = NotificationQuery()
            if let s = p.get("state") {
                guard let state = OutboxNotification.State(rawValue: s) else {
                    throw HostError.invalid("state must be one of \(OutboxNotification.State.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                q.state = state
            }
            q.channel = p.get("channel")
            if let l = p.get("limit") {
                guard let n = Int(l), (1...500).contains(n) else { throw HostError.invalid("limit must be 1-500") }
                q.limit = n
            }
            q.before = p.get("cursor")
            let list = try await store.notifications(q)
            return try .json(ListView(notifications: list.map(View.init), next_cursor: list.count == q.limit ? list.last?.id : nil,
                                      depth: try await store.outboxDepth()))
        }
        api.get("notifications/:id") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let n = try await store.notification(id: id) else { throw HostError.notFound("no notification \(id.debugDescription)") }
            return try .json(View(n))
        }
        api.post("notifications/test") { request, _ -> Response in
            let input = try await RequestBody.json(request, as: TestInput.self, allowedKeys: ["channel", "text", "subject", "format", "recipients"])
            let message = OutgoingMessage(subject: input.subject ?? "synchost test", text: input.text ?? "synchost test message",
                                          format: input.format ?? "text", recipients: input.recipients ?? [])
            let ids: [String]
            do {
                ids = try await Outbox.queue(message, channels: [input.channel], dedupKey: nil, source: nil, store: store, registry: registry,
                                             maxAttempts: outbox.maxAttempts, now: outbox.clock(), events: outbox.events)
            } catch let e as PluginError where e.kind == .notFound {
                throw HostError.notFound(e.message)
            }
            outbox.wake()
            return try .json(Queued(ids: ids), status: .accepted)
        }
        api.post("notifications/:id/retry") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard var n = try await store.notification(id: id) else { throw HostError.notFound("no notification \(id.debugDescription)") }
            guard n.state == .dead || n.state == .unknown else {
                throw HostError.conflict("notification \(id) is \(n.state.rawValue); only dead or unknown ones are retried by hand")
            }
            n.state = .failed
            n.maxAttempts = max(n.maxAttempts, n.attempts + 1)
            n.nextAttemptAt = Date()
            n.updatedAt = Date()
            try await store.updateNotification(n)
            outbox.wake()
            return try .json(View(n), status: .accepted)
        }
    }
}
