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
        /// The latest ended run (of `job`, if named) took more than `threshold` minutes.
        case runSlowerThan = "run_slower_than"
        /// The latest successful run took more than `threshold` × the median of the job's previous successful runs (at least 3).
        case runSlowerThanMedian = "run_slower_than_median"
        /// The latest successful run fetched less than `threshold` % of the median of the job's previous 7 (at least 3).
        case fetchedBelowMedian = "fetched_below_median"
        /// The latest successful run of a weekday (Monday-Friday in the instance's zone) fetched nothing.
        case zeroRowsBusinessDay = "zero_rows_business_day"
        /// More than `threshold` runs failed in 24 h with an error of `error_class`.
        case upstreamErrors = "upstream_errors"
    }

    /// What an upstream error says, by its message (the plugins' errors carry the upstream's words and codes).
    public enum ErrorClass: String, Sendable, Codable, CaseIterable {
        /// Timed out (the host's fetch timeouts, an upstream's own).
        case timeout
        /// Refused for rate: HTTP 429, WeCom 45009, Aliyun's flow control, 频率/限流.
        case rateLimit = "rate_limit"
        /// Refused credentials: 401/403, invalid or expired tokens (WeCom 40001/40014/42001), signatures.
        case auth
        /// Any failure.
        case any

        func matches(_ error: String) -> Bool {
            let e = error.lowercased()
            switch self {
            case .any: return true
            case .timeout: return e.contains("timed out") || e.contains("timeout") || e.contains("超时")
            case .rateLimit:
                return e.contains("429") || e.contains("45009") || e.contains("rate limit") || e.contains("too many requests") || e.contains("freq out of limit")
                    || e.contains("limit_control") || e.contains("频率") || e.contains("限流")
            case .auth:
                return e.contains("401") || e.contains("403") || e.contains("40001") || e.contains("40014") || e.contains("42001")
                    || e.contains("unauthori") || e.contains("forbidden") || e.contains("access_token") || e.contains("invalid credential")
                    || e.contains("signature") || e.contains("login") || e.contains("认证") || e.contains("鉴权") || e.contains("密码")
            }
        }
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
    /// The job whose runs the run kinds judge (nil: any job).
    public var job: String?
    /// For `upstream_errors`: which errors count.
    public var errorClass: ErrorClass?
    public var threshold: Double
    public var severity: Severity
    public var channels: [String]
    public var repeatMinutes: Int
    public var enabled: Bool

    public init(id: String = UUID().uuidString.lowercased(), name: String, kind: Kind, instance: String? = nil, collection: String? = nil,
                job: String? = nil, errorClass: ErrorClass? = nil,
                threshold: Double, severity: Severity, channels: [String] = [], repeatMinutes: Int = 60, enabled: Bool = true) {
        self.id = id
        self.name = name
        self.kind = kind
        self.instance = instance
        self.collection = collection
        self.job = job
        self.errorClass = errorClass
        self.threshold = threshold
        self.severity = severity
        self.channels = channels
        self.repeatMinutes = repeatMinutes
        self.enabled = enabled
    }

    enum CodingKeys: String, CodingKey {
        case id, name, kind, instance, collection, job, threshold, severity, channels, enabled
        case repeatMinutes = "repeat_minutes"
        case errorClass = "error_class"
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
        if kind == .upstreamErrors && errorClass == nil { p.append("error_class is required for upstream_errors (timeout, rate_limit, auth or any)") }
        if kind != .upstreamErrors && errorClass != nil { p.append("error_class is only for upstream_errors") }
        if [.runSlowerThanMedian].contains(kind) && threshold <= 1 { p.append("threshold: a factor above 1 (e.g. 3 for three times the median)") }
        if kind == .fetchedBelowMedian && !(threshold > 0 && threshold <= 100) { p.append("threshold: a percentage 1-100 of the median") }
        if kind == .runSlowerThan && threshold <= 0 { p.append("threshold: minutes above 0") }
        let jobKinds: [Kind] = [.consecutiveFailures, .failures24h, .noSuccessFor, .runSlowerThan, .runSlowerThanMedian, .fetchedBelowMedian, .zeroRowsBusinessDay, .upstreamErrors]
        if job != nil && !jobKinds.contains(kind) { p.append("job is only for kinds that judge runs") }
        return p
    }

    /// The seed's WeCom thresholds, for every connector: score < 60 critical, > 5 failed runs a day warning,
    /// no success for 2 h warning.
    static let defaults: [AlertRule] = [
        AlertRule(id: "default-health", name: "健康分低于 60 / health score below 60", kind: .healthBelow, threshold: 60, severity: .critical),
        AlertRule(id: "default-errors", name: "24 小时失败超过 5 次 / more than 5 failed runs in 24 h", kind: .failures24h, threshold: 5, severity: .warning),
        AlertRule(id: "default-delay", name: "同步延迟超过 2 小时 / no successful sync for 2 h", kind: .noSuccessFor, threshold: 2, severity: .warning),
    ]

    /// Instance config values that tune the default rules for that instance (the seed's WeCom settings, open to any
    /// plugin that declares the keys in its config): each rule's threshold, and one channel for all three.
    static let instanceThresholdKeys = ["default-health": "alert_min_score", "default-errors": "alert_max_errors", "default-delay": "alert_max_delay_hours"]
    static let instanceChannelKey = "alert_channel"

    /// The rule as it applies to an instance of this config: a default rule with the instance's own threshold and channel.
    func applying(_ config: [String: JSONValue]) -> AlertRule {
        guard instance == nil, let key = Self.instanceThresholdKeys[id] else { return self }
        var r = self
        if let t = config[key]?.doubleValue, t >= 0 { r.threshold = t }
        if let c = config[Self.instanceChannelKey]?.stringValue, !c.isEmpty, !r.channels.contains(c) { r.channels.append(c) }
        return r
    }
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
