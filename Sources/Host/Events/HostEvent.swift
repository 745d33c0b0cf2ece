import Foundation
import PluginAPI

/// Something that happened in this host, for the console's live stream (`GET /api/v1/events`) and
/// `synchost run --verbose`: runs started, progressing and finished, records changed, notifications queued, sent
/// or given up, plugins loaded or failed.
public struct HostEvent: Sendable {
    /// Grows by one per event; the first of a process is its start time in microseconds, so ids also grow
    /// across restarts (a client resuming with an id from before one is told to reload).
    public let id: Int64
    public let type: String
    public let data: JSONValue

    /// The event as a server-sent-events frame.
    var frame: String {
        if id == 0 { return ": keep-alive\n\n" }
        return "id: \(id)\nevent: \(type)\ndata: \(String(decoding: data.jsonBytes, as: UTF8.self))\n\n"
    }

    static let runStarted = "run.started"
    static let runProgress = "run.progress"
    static let runFinished = "run.finished"
    static let recordsChanged = "records.changed"
    static let notificationQueued = "notification.queued"
    static let notificationSent = "notification.sent"
    static let notificationRetrying = "notification.retrying"
    static let notificationDead = "notification.dead"
    static let alertFired = "alert.fired"
    static let alertResolved = "alert.resolved"
    static let pluginLoaded = "plugin.loaded"
    static let pluginFailed = "plugin.failed"
}
