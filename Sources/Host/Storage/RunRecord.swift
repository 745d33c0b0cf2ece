import Foundation
import PluginAPI

/// One run of a job: queued, running, then ended. The scheduler writes them; the API and CLI read them.
public struct RunRecord: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case queued, running, succeeded, incomplete, failed, cancelled
        /// The host died while it ran (found at the next start, or when its lease expired).
        case interrupted
        /// An isolated plugin's worker process died during the run (a signal, an exit, killed for silence); retried
        /// by the job's policy like a failure.
        case crashed
        /// Not run: a missed fire under the `skip` misfire policy, or a fire while the job was still running
        /// under the `forbid` overlap policy. The message says which.
        case skipped

        public var isFinal: Bool { ![.queued, .running].contains(self) }
    }

    public var id: String
    public var instance: String
    public var job: String
    /// schedule | manual | initial | retry
    public var trigger: String
    public var status: Status
    public var params: [String: JSONValue]
    public var dryRun: Bool
    public var scheduleID: String?
    public var scheduledFor: Date?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var counts: RunCounts
    public var complete: Bool?
    public var message: String?
    public var error: String?
    public var attempt: Int
    /// When a queued run becomes due (now, or later for delayed runs such as staggered backfills).
    public var runAt: Date?
    /// The host running it, and until when its claim holds without a heartbeat.
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var overlap: ScheduleRecord.Overlap
    public var timeoutSeconds: Int
    public var maxAttempts: Int
    public var retryBackoffSeconds: Int
    /// Set by `replace` overlap or a user: the host running it cancels it at its next heartbeat.
    public var cancelRequested: Bool
    /// The plugin's last log lines of the run (secrets masked), for the run's page.
    public var log: String?
    /// What the run reported beyond its counts: the plugin's details (e.g. VOS's per-day counts) and, for a
    /// dry run, what it would have done (`would_send`, `would_enqueue`, `would_set_state`).
    public var details: [String: JSONValue] = [:]

    public init(
        id: String = UUID().uuidString.lowercased(), instance: String, job: String, trigger: String, status: Status = .queued,
        params: [String: JSONValue] = [:], dryRun: Bool = false, scheduleID: String? = nil, scheduledFor: Date? = nil,
        createdAt: Date = Date(), attempt: Int = 1
    ) {
        self.id = id
        self.instance = instance
        self.job = job
        self.trigger = trigger
        self.status = status
        self.params = params
        self.dryRun = dryRun
        self.scheduleID = scheduleID
        self.scheduledFor = scheduledFor
        self.createdAt = createdAt
        self.counts = RunCounts()
        self.attempt = attempt
        self.runAt = createdAt
        self.overlap = .forbid
        self.timeoutSeconds = 3600
        self.maxAttempts = 1
        self.retryBackoffSeconds = 30
        self.cancelRequested = false
    }
}

public struct RunQuery: Sendable {
    public var instance: String?
    /// Leaves this instance's runs out (the host's maintenance runs, in a list of every instance's).
    public var excludingInstance: String?
    public var job: String?
    public var status: RunRecord.Status?
    public var since: Date?
    public var limit = 50
    /// Runs created before this run (the previous page's last id).
    public var before: String?
    public init() {}
}
