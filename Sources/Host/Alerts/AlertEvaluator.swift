import Foundation
import PluginAPI

/// The host's `alerts` job (every minute): evaluates every enabled rule for every enabled connector instance it
/// covers. A rule that starts to hold fires an alert (stored, one active per rule and instance) and tells the
/// rule's channels through the outbox; while it holds the message is repeated every `repeat_minutes`; when it stops
/// holding the alert resolves and a "resolved" message goes out. The job runs on one replica per minute (the
/// scheduler's claim), the database refuses a second active alert, and every message carries a dedup key, so
/// nothing is sent twice.
struct AlertEvaluator {
    let store: any HostDatabase
    let registry: PluginRegistry?
    let events: EventBus?
    let clock: HostClock
    var maxAttempts = 5
    /// The zone of instances without their own (business days).
    var defaultZone = "UTC"

    struct Outcome {
        var fired = 0, repeated = 0, resolved = 0, active = 0
        var unsent: [String] = []
        var summary: String {
            "\(fired) fired, \(repeated) repeated, \(resolved) resolved, \(active) active" + (unsent.isEmpty ? "" : "; not sent: " + unsent.joined(separator: "; "))
        }
    }

    /// Whether the rule holds for the instance now, the value it saw and a sentence saying so.
    func check(_ rule: AlertRule, _ instance: InstanceRecord, now: Date, health: () async throws -> InstanceHealth) async throws -> (Bool, Double, String) {
        let t = rule.threshold
        func n(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(format: "%.2f", x) }
        switch rule.kind {
        case .consecutiveFailures:
            var q = RunQuery()
            q.instance = instance.id
            q.job = rule.job
            q.limit = max(1, Int(t)) + 20
            let ended = try await store.runs(q).filter { $0.status.isFinal && $0.status != .cancelled && $0.status != .skipped }.prefix(max(1, Int(t)))
            let failing = ended.count == Int(t) && ended.allSatisfy { [.failed, .interrupted, .crashed].contains($0.status) }
            return (failing, Double(ended.count), "最近 \(n(t)) 次运行全部失败 / the last \(n(t)) runs failed" + (ended.first?.error.map { ": \($0)" } ?? ""))
        case .failures24h:
            let failed = rule.job == nil ? try await health().parts["failed_24h"]?.doubleValue ?? 0
                : Double(try await runs(instance, job: rule.job, since: now.addingTimeInterval(-86400)).filter { $0.status == .failed }.count)
            return (failed > t, failed, "24 小时内失败 \(n(failed)) 次（阈值 \(n(t))）/ \(n(failed)) failed runs in 24 h (more than \(n(t)))")
        case .noSuccessFor:
            var hours = try await health().parts["hours_since_success"]?.doubleValue ?? now.timeIntervalSince(instance.createdAt) / 3600
            if let job = rule.job {
                let last = try await runs(instance, job: job, status: .succeeded, limit: 1).first?.finishedAt ?? instance.createdAt
                hours = now.timeIntervalSince(last) / 3600
            }
            return (hours > t, hours, "\(n(hours)) 小时没有成功同步（阈值 \(n(t)) 小时）/ no successful sync for \(n(hours)) h (more than \(n(t)) h)")
        case .healthBelow:
            let score = Double(try await health().score)
            return (score < t, score, "健康分 \(n(score))（低于 \(n(t))）/ health score \(n(score)) (below \(n(t)))")
        case .staleCollection:
            let c = rule.collection ?? ""
            let synced = try await store.lastSyncedAt(instance: instance.id, collection: c) ?? instance.createdAt
            let hours = now.timeIntervalSince(synced) / 3600
            return (hours > t, hours, "\(c) 已 \(n(hours)) 小时未更新（阈值 \(n(t)) 小时）/ \(c) not synced for \(n(hours)) h (more than \(n(t)) h)")
        case .runSlowerThan:
            guard let last = Self.byEnd(try await runs(instance, job: rule.job, limit: 20)).first(where: { $0.status.isFinal && $0.startedAt != nil }) else {
                return (false, 0, "")
            }
            let minutes = last.finishedAt!.timeIntervalSince(last.startedAt!) / 60
            return (minutes > t, minutes, "\(last.job) 运行 \(n(minutes)) 分钟（超过 \(n(t)) 分钟）/ \(last.job) ran \(n(minutes)) min (more than \(n(t)) min)")
        case .runSlowerThanMedian, .fetchedBelowMedian, .zeroRowsBusinessDay:
            // The latest successful run, against the same job's earlier successful runs.
            let recent = Self.byEnd(try await runs(instance, job: rule.job, status: .succeeded, limit: 60))
            guard let last = recent.first else { return (false, 0, "") }
            let earlier = Array(recent.filter { $0.job == last.job && $0.id != last.id }.prefix(rule.kind == .fetchedBelowMedian ? 7 : 20))
            switch rule.kind {
            case .runSlowerThanMedian:
                let seconds = { (r: RunRecord) -> Double? in r.startedAt.flatMap { s in r.finishedAt.map { $0.timeIntervalSince(s) } } }
                guard let took = seconds(last), let median = Self.median(earlier.compactMap(seconds)), earlier.count >= 3, median > 0 else { return (false, 0, "") }
                let factor = took / median
                return (factor > t, factor, "\(last.job) 运行 \(n(took)) 秒，是中位数 \(n(median)) 秒的 \(n(factor)) 倍 / \(last.job) took \(n(took)) s, \(n(factor))× its median \(n(median)) s")
            case .fetchedBelowMedian:
                guard earlier.count >= 3, let median = Self.median(earlier.map { Double($0.counts.fetched) }), median > 0 else { return (false, 0, "") }
                let percent = Double(last.counts.fetched) / median * 100
                return (percent < t, percent, "\(last.job) 获取 \(last.counts.fetched) 条，仅为近 \(earlier.count) 次中位数 \(n(median)) 的 \(n(percent))% / \(last.job) fetched \(last.counts.fetched), \(n(percent))% of the median \(n(median)) of its last \(earlier.count) runs")
            default:
                var calendar = Calendar(identifier: .gregorian)
                calendar.timeZone = TimeZone(identifier: instance.config["timezone"]?.stringValue ?? "") ?? TimeZone(identifier: defaultZone) ?? .gmt
                let weekday = calendar.component(.weekday, from: last.finishedAt ?? now)
                let business = (2...6).contains(weekday)
                return (business && last.counts.fetched == 0, Double(last.counts.fetched),
                        "\(last.job) 在工作日获取 0 条数据 / \(last.job) fetched nothing on a business day")
            }
        case .upstreamErrors:
            let errorClass = rule.errorClass ?? .any
            let failed = try await runs(instance, job: rule.job, since: now.addingTimeInterval(-86400)).filter { $0.status == .failed && errorClass.matches($0.error ?? "") }
            let count = Double(failed.count)
            return (count > t, count, "24 小时内 \(failed.count) 次\(Self.classNames[errorClass]?.0 ?? "")失败（阈值 \(n(t))）/ \(failed.count) \(Self.classNames[errorClass]?.1 ?? "") failures in 24 h (more than \(n(t)))"
                        + (failed.first?.error.map { ": \($0)" } ?? ""))
        }
    }

    static let classNames: [AlertRule.ErrorClass: (String, String)] = [
        .timeout: ("超时", "timeout"), .rateLimit: ("限流", "rate-limit"), .auth: ("认证", "auth"), .any: ("", ""),
    ]

    /// The instance's runs, newest first (of one job, with one status, since a time).
    func runs(_ instance: InstanceRecord, job: String?, status: RunRecord.Status? = nil, since: Date? = nil, limit: Int = 1000) async throws -> [RunRecord] {
        var q = RunQuery()
        q.instance = instance.id
        q.job = job
        q.status = status
        q.since = since
        q.limit = limit
        return try await store.runs(q)
    }

    /// Ended runs, the last to end first (a long run created early may end last).
    static func byEnd(_ runs: [RunRecord]) -> [RunRecord] {
        runs.filter { $0.finishedAt != nil }.sorted { $0.finishedAt! > $1.finishedAt! }
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    func evaluate() async throws -> Outcome {
        var outcome = Outcome()
        let now = clock()
        let rules = try await store.alertRules().filter(\.enabled)
        // One read of the instances: the ones the rules judge, and every one's config for resolving leftovers.
        let all = try await store.instances()
        let instances = all.filter { i in i.enabled && registry?.plugin(named: i.plugin)?.manifest.kind == .connector }
        var active = Dictionary(try await store.alerts(includeResolved: false, limit: 100_000).map { ("\($0.rule)|\($0.instance)", $0) }, uniquingKeysWith: { a, _ in a })
        var healthOf: [String: InstanceHealth] = [:]
        for stored in rules {
            for instance in instances where stored.instance == nil || stored.instance == instance.id {
                let rule = stored.applying(instance.config)
                let (holds, value, message) = try await check(rule, instance, now: now) {
                    if let h = healthOf[instance.id] { return h }
                    let h = try await InstanceHealth.of(instance, store: store, now: now)
                    healthOf[instance.id] = h
                    return h
                }
                let key = "\(rule.id)|\(instance.id)"
                if holds, var alert = active.removeValue(forKey: key) {
                    alert.message = message
                    alert.value = value
                    if now.timeIntervalSince(alert.lastSentAt) >= Double(rule.repeatMinutes) * 60 {
                        alert.lastSentAt = now
                        alert.sentCount += 1
                        try await store.saveAlert(alert)
                        await send(alert, rule: rule, resolved: false, outcome: &outcome)
                        outcome.repeated += 1
                    } else {
                        try await store.saveAlert(alert)
                    }
                    outcome.active += 1
                } else if holds {
                    let alert = AlertRecord(id: UUID().uuidString.lowercased(), rule: rule.id, ruleName: rule.name, instance: instance.id, severity: rule.severity,
                                            state: .active, message: message, value: value, firedAt: now, lastSentAt: now, sentCount: 1, resolvedAt: nil)
                    do { try await store.saveAlert(alert) } catch { continue }  // another replica's evaluation stored it first
                    events?.publish(HostEvent.alertFired, ["alert": .string(alert.id), "rule": .string(rule.id), "instance": .string(instance.id),
                                                           "severity": .string(rule.severity.rawValue), "message": .string(message)])
                    await send(alert, rule: rule, resolved: false, outcome: &outcome)
                    outcome.fired += 1
                    outcome.active += 1
                } else if var alert = active.removeValue(forKey: key) {
                    try await resolve(&alert, rule: rule, now: now, outcome: &outcome)
                }
            }
        }
        // What is left no longer has a rule or an instance to hold for (deleted, disabled): resolved.
        let byID = Dictionary(uniqueKeysWithValues: rules.map { ($0.id, $0) })
        let configOf = Dictionary(all.map { ($0.id, $0.config) }, uniquingKeysWith: { a, _ in a })
        for var alert in active.values {
            try await resolve(&alert, rule: byID[alert.rule].map { $0.applying(configOf[alert.instance] ?? [:]) }, now: now, outcome: &outcome)
        }
        return outcome
    }

    func resolve(_ alert: inout AlertRecord, rule: AlertRule?, now: Date, outcome: inout Outcome) async throws {
        alert.state = .resolved
        alert.resolvedAt = now
        try await store.saveAlert(alert)
        events?.publish(HostEvent.alertResolved, ["alert": .string(alert.id), "rule": .string(alert.rule), "instance": .string(alert.instance)])
        if let rule { await send(alert, rule: rule, resolved: true, outcome: &outcome) }
        outcome.resolved += 1
    }

    /// Queues the alert's message to the rule's channels; a rule without channels only lists its alerts (as the seed's
    /// WeCom did without an alert_channel). The dedup key makes a second evaluation of the same moment queue nothing.
    func send(_ alert: AlertRecord, rule: AlertRule, resolved: Bool, outcome: inout Outcome) async {
        if rule.channels.isEmpty { return }
        let level = ["critical": "严重 critical", "warning": "警告 warning", "info": "提示 info"][rule.severity.rawValue] ?? rule.severity.rawValue
        let subject = resolved ? "【已恢复 resolved】\(rule.name) · \(alert.instance)" : "【\(level)】\(rule.name) · \(alert.instance)"
        let text = resolved
            ? "\(alert.instance): \(rule.name) 已恢复 / resolved (fired \(ISOTime.string(alert.firedAt) ?? ""))"
            : "\(alert.instance): \(alert.message)" + (alert.sentCount > 1 ? " (第 \(alert.sentCount) 次提醒 / reminder \(alert.sentCount))" : "")
        do {
            _ = try await Outbox.queue(OutgoingMessage(subject: subject, text: text), channels: rule.channels,
                                       dedupKey: "alert:\(alert.id):\(resolved ? "resolved" : String(alert.sentCount))", source: alert.instance,
                                       store: store, registry: registry, maxAttempts: maxAttempts, now: clock(), events: events ?? EventBus())
        } catch {
            outcome.unsent.append("\(rule.id)/\(alert.instance): \((error as? PluginError)?.message ?? "\(error)")")
        }
    }
}
