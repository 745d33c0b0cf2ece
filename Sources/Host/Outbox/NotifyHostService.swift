import Foundation
import PluginAPI

/// "send": a plugin hands a message to the outbox. It is persisted (one row per channel) before this
/// returns; delivery happens later, by the dispatcher. With no channels named, every enabled notifier
/// instance receives it.
struct NotifyHostService: HostService {
    let store: any HostDatabase
    let registry: @Sendable () -> PluginRegistry?
    let maxAttempts: Int
    let wake: @Sendable () -> Void
    let events: EventBus
    var clock: HostClock = HostClocks.system

    func handle(op: String, request: [UInt8], session: SessionContext) async throws -> [UInt8] {
        guard op == "send" else { throw HostInfo.noSuchOperation("notify", op) }
        let r: NotifyService.SendRequest
        do { r = try WireJSON.decode(NotifyService.SendRequest.self, from: request) } catch {
            throw PluginError(.invalid, "notify.send: malformed request: \(error)")
        }
        // A dry run changes nothing: the message is recorded on the run, not queued.
        if session.dryRun {
            session.tally?.wouldDo("would_send", ["channels": .array(r.channels.map(JSONValue.string)), "subject": r.message.subject.map(JSONValue.string) ?? .null,
                                                  "text": .string(r.message.text), "dedup_key": r.dedupKey.map(JSONValue.string) ?? .null])
            return try WireJSON.encode(NotifyService.Queued(ids: []))
        }
        let ids = try await Outbox.queue(r.message, channels: r.channels, dedupKey: r.dedupKey, source: session.instance?.id,
                                         store: store, registry: registry(), maxAttempts: maxAttempts, now: clock(), events: events)
        wake()
        return try WireJSON.encode(NotifyService.Queued(ids: ids))
    }
}

/// Queuing, shared by the plugin service and the admin API's test message.
enum Outbox {
    static let maxText = 64 * 1024

    static func queue(_ message: OutgoingMessage, channels: [String], dedupKey: String?, source: String?,
                      store: any HostDatabase, registry: PluginRegistry?, maxAttempts: Int, now: Date, events: EventBus) async throws -> [String] {
        guard !message.text.isEmpty else { throw PluginError(.invalid, "notify: the message text is empty") }
        guard message.text.utf8.count <= maxText else { throw PluginError(.invalid, "notify: the message text is over \(maxText) bytes") }
        guard ["text", "markdown"].contains(message.format) else { throw PluginError(.invalid, "notify: format must be text or markdown") }
        let notifiers = Set(registry?.loaded.filter { $0.manifest.kind == .notifier }.map(\.name) ?? [])
        var targets: [String] = []
        if channels.isEmpty {
            targets = try await store.instances().filter { $0.enabled && notifiers.contains($0.plugin) }.map(\.id)
            guard !targets.isEmpty else { throw PluginError(.unavailable, "notify: no enabled notification channel is configured") }
        } else {
            for c in channels {
                guard let i = try await store.instance(id: c) else { throw PluginError(.notFound, "notify: no channel \(c.debugDescription)") }
                guard notifiers.contains(i.plugin) else { throw PluginError(.invalid, "notify: \(c) is a \(i.plugin) instance, not a notification channel") }
                targets.append(c)
            }
        }
        let ids = try await store.enqueue(targets.map {
            OutboxNotification(channel: $0, sourceInstance: source, dedupKey: dedupKey, message: message, maxAttempts: maxAttempts, now: now)
        })
        for (id, channel) in zip(ids, targets) {
            events.publish(HostEvent.notificationQueued, ["id": .string(id), "channel": .string(channel), "source": source.map(JSONValue.string) ?? .null])
        }
        return ids
    }
}
