import Foundation
import PluginAPI

/// A stored alert rule, evaluated by the host's `alerts` job for one instance or for every instance: what to
/// watch (`kind` and its `threshold`), how bad it is, where to tell (notification channels; none: the alerts are
/// only listed — API, console, events) and how often to repeat while it stays active.
public struct AlertRule: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// The last `threshold` ended runs all failed.
        case consecutiveFailures = "consecutive_failures"
        /// More than `threshold` failed runs in the last 24 h.
        case failures24h = "failures_24h"
        /// No successful run for more than `threshold` hours (since the instance was created, if never).
        case noSuccessFor = "no_success_for"
        /// The instance's health score below `threshold`.
        case healthBelow = "health_below"
        /// The collection's last sync older than `threshold` hours.
        case staleCollection = "stale_collection"
    }

    public enum Severity: String, Sendable, Codable, CaseIterable {
        case info, warning, critical
    }

    public var id: String
    public var name: String
    public var kind: Kind
    /// Nil: every instance.
    public var instance: String?
    public var collection: String?
    public var threshold: Double
    public var severity: Severity
    public var channels: [String]
    public var repeatMinutes: Int
    public var enabled: Bool

    public init(id: String = UUID().uuidString.lowercased(), name: String, kind: Kind, instance: String? = nil, collection: String? = nil,
                threshold: Double, severity: Severity, channels: [String] = [], repeatMinutes: Int = 60, enabled: Bool = true) {
        self.id = id
        self.name = name
        self.kind = kind
        self.instance = instance
        self.collection = collection
        self.threshold = threshold
        self.severity = severity
        self.channels = channels
        self.repeatMinutes = repeatMinutes
        self.enabled = enabled
    }

    enum CodingKeys: String, CodingKey {
        case id, name, kind, instance, collection, threshold, severity, channels, enabled
        case repeatMinutes = "repeat_minutes"
    }

    /// What is wrong with it, if anything.
    public var problems: [String] {
        var p: [String] = []
        if name.trimmingCharacters(in: .whitespaces).isEmpty || name.count > 200 { p.append("name: 1-200 characters") }
        if threshold < 0 || !threshold.isFinite { p.append("threshold must be a number at least 0") }
        if kind == .consecutiveFailures && threshold < 1 { p.append("threshold: at least 1 run") }
        if kind == .staleCollection && collection == nil { p.append("collection is required for stale_collection") }
        if kind != .staleCollection && collection != nil { p.append("collection is only for stale_collection") }
        if !(1...10_080).contains(repeatMinutes) { p.append("repeat_minutes must be 1-10080") }
        return p
    }

    /// The seed's WeCom thresholds, for every connector: score < 60 critical, > 5 failed runs a day warning,
    /// no success for 2 h warning.
    static let defaults: [AlertRule] = [
        AlertRule(id: "default-health", name: "健康分低于 60 / health score below 60", kind: .healthBelow, threshold: 60, severity: .critical),
        AlertRule(id: "default-errors", name: "24 小时失败超过 5 次 / more than 5 failed runs in 24 h", kind: .failures24h, threshold: 5, severity: .warning),
        AlertRule(id: "default-delay", name: "同步延迟超过 2 小时 / no successful sync for 2 h", kind: .noSuccessFor, threshold: 2, severity: .warning),
    ]
}

/// An alert: a rule that held for one instance, from when it fired until it resolved.
public struct AlertRecord: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        case active, resolved
    }

    public var id: String
    public var rule: String
    public var ruleName: String
    public var instance: String
    public var severity: AlertRule.Severity
    public var state: State
    public var message: String
    public var value: Double
    public var firedAt: Date
    public var lastSentAt: Date
    public var sentCount: Int
    public var resolvedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, rule, instance, severity, state, message, value
        case ruleName = "rule_name"
        case firedAt = "fired_at"
        case lastSentAt = "last_sent_at"
        case sentCount = "sent_count"
        case resolvedAt = "resolved_at"
    }
}
