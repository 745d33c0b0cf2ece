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
            q.limit = max(1, Int(t)) + 20
            let ended = try await store.runs(q).filter { $0.status.isFinal && $0.status != .cancelled && $0.status != .skipped }.prefix(max(1, Int(t)))
            let failing = ended.count == Int(t) && ended.allSatisfy { $0.status == .failed || $0.status == .interrupted }
            return (failing, Double(ended.count), "最近 \(n(t)) 次运行全部失败 / the last \(n(t)) runs failed" + (ended.first?.error.map { ": \($0)" } ?? ""))
        case .failures24h:
            let failed = try await health().parts["failed_24h"]?.doubleValue ?? 0
            return (failed > t, failed, "24 小时内失败 \(n(failed)) 次（阈值 \(n(t))）/ \(n(failed)) failed runs in 24 h (more than \(n(t)))")
        case .noSuccessFor:
            let hours = try await health().parts["hours_since_success"]?.doubleValue ?? now.timeIntervalSince(instance.createdAt) / 3600
            return (hours > t, hours, "\(n(hours)) 小时没有成功同步（阈值 \(n(t)) 小时）/ no successful sync for \(n(hours)) h (more than \(n(t)) h)")
        case .healthBelow:
            let score = Double(try await health().score)
            return (score < t, score, "健康分 \(n(score))（低于 \(n(t))）/ health score \(n(score)) (below \(n(t)))")
        case .staleCollection:
            let c = rule.collection ?? ""
            let synced = try await store.lastSyncedAt(instance: instance.id, collection: c) ?? instance.createdAt
            let hours = now.timeIntervalSince(synced) / 3600
            return (hours > t, hours, "\(c) 已 \(n(hours)) 小时未更新（阈值 \(n(t)) 小时）/ \(c) not synced for \(n(hours)) h (more than \(n(t)) h)")
        }
    }

    func evaluate() async throws -> Outcome {
        var outcome = Outcome()
        let now = clock()
        let rules = try await store.alertRules().filter(\.enabled)
        let instances = try await store.instances().filter { i in i.enabled && registry?.plugin(named: i.plugin)?.manifest.kind == .connector }
        var active = Dictionary(try await store.alerts(includeResolved: false, limit: 100_000).map { ("\($0.rule)|\($0.instance)", $0) }, uniquingKeysWith: { a, _ in a })
        var healthOf: [String: InstanceHealth] = [:]
        for rule in rules {
            for instance in instances where rule.instance == nil || rule.instance == instance.id {
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
        for var alert in active.values {
            try await resolve(&alert, rule: byID[alert.rule], now: now, outcome: &outcome)
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

    /// Queues the alert's message to the rule's channels; a rule without channels only lists its alerts (as WeCom's
    /// alert_channel did). The dedup key makes a second evaluation of the same moment queue nothing.
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
