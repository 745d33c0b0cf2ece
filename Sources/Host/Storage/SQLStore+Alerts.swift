import Foundation
import PluginAPI

extension SQLStore: AlertStore {
    static let ruleColumns = "id, name, kind, instance_id, collection, threshold, severity, channels, repeat_minutes, enabled, job, error_class"
    static let alertColumns = "id, rule_id, rule_name, instance_id, severity, state, message, value, fired_at, last_sent_at, sent_count, resolved_at"

    static func rule(_ r: SQLRow) -> AlertRule {
        let channels = (try? WireJSON.decode([String].self, from: Array((r.text(7) ?? "[]").utf8))) ?? []
        return AlertRule(id: r.text(0) ?? "", name: r.text(1) ?? "", kind: AlertRule.Kind(rawValue: r.text(2) ?? "") ?? .healthBelow, instance: r.text(3),
                         collection: r.text(4), job: r.text(10), errorClass: r.text(11).flatMap(AlertRule.ErrorClass.init(rawValue:)), threshold: r.double(5) ?? 0, severity: AlertRule.Severity(rawValue: r.text(6) ?? "") ?? .warning,
                         channels: channels, repeatMinutes: Int(r.int(8) ?? 60), enabled: r.bool(9))
    }

    static func ruleJSON(_ r: AlertRule) -> JSONValue {
        (try? JSONValue.parse(WireJSON.encode(r))) ?? .null
    }

    static func alert(_ r: SQLRow) -> AlertRecord {
        AlertRecord(id: r.text(0) ?? "", rule: r.text(1) ?? "", ruleName: r.text(2) ?? "", instance: r.text(3) ?? "",
                    severity: AlertRule.Severity(rawValue: r.text(4) ?? "") ?? .warning, state: AlertRecord.State(rawValue: r.text(5) ?? "") ?? .active,
                    message: r.text(6) ?? "", value: r.double(7) ?? 0, firedAt: r.date(8) ?? Date(millis: 0), lastSentAt: r.date(9) ?? Date(millis: 0),
                    sentCount: Int(r.int(10) ?? 0), resolvedAt: r.date(11))
    }

    public func alertRules() async throws -> [AlertRule] {
        try await rows("SELECT \(Self.ruleColumns) FROM alert_rules ORDER BY id").map(Self.rule)
    }

    public func saveAlertRule(_ rule: AlertRule, now: Date) async throws {
        let channels = String(decoding: try WireJSON.encode(rule.channels), as: UTF8.self)
        try await write { s in
            let old = try await s.one("SELECT \(Self.ruleColumns) FROM alert_rules WHERE id = ?", [.text(rule.id)]).map(Self.rule)
            try await s.execute("DELETE FROM alert_rules WHERE id = ?", [.text(rule.id)])
            try await s.execute("INSERT INTO alert_rules (\(Self.ruleColumns), updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                .text(rule.id), .text(rule.name), .text(rule.kind.rawValue), rule.instance.map(SQLValue.text) ?? .null, rule.collection.map(SQLValue.text) ?? .null,
                .double(rule.threshold), .text(rule.severity.rawValue), .text(channels), .int(Int64(rule.repeatMinutes)), .bool(rule.enabled),
                .optional(rule.job), .optional(rule.errorClass?.rawValue), .int(now.millis),
            ])
            try await Self.audit(s, old == nil ? "alert_rule.create" : "alert_rule.update", rule.id, before: old.map(Self.ruleJSON), after: Self.ruleJSON(rule))
        }
    }

    public func deleteAlertRule(id: String) async throws -> Bool {
        try await write { s in
            guard let old = try await s.one("SELECT \(Self.ruleColumns) FROM alert_rules WHERE id = ?", [.text(id)]).map(Self.rule) else { return false }
            try await s.execute("DELETE FROM alert_rules WHERE id = ?", [.text(id)])
            try await Self.audit(s, "alert_rule.delete", id, before: Self.ruleJSON(old), after: nil)
            return true
        }
    }

    public func alerts(instance: String?, includeResolved: Bool, limit: Int) async throws -> [AlertRecord] {
        var conditions: [String] = [], values: [SQLValue] = []
        if !includeResolved { conditions.append("state = 'active'") }
        if let instance {
            conditions.append("instance_id = ?")
            values.append(.text(instance))
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try await rows("SELECT \(Self.alertColumns) FROM alerts\(filter) ORDER BY fired_at DESC, id LIMIT ?", values + [.int(Int64(limit))]).map(Self.alert)
    }

    public func saveAlert(_ a: AlertRecord) async throws {
        let values: [SQLValue] = [
            .text(a.id), .text(a.rule), .text(a.ruleName), .text(a.instance), .text(a.severity.rawValue), .text(a.state.rawValue), .text(a.message),
            .double(a.value), .int(a.firedAt.millis), .int(a.lastSentAt.millis), .int(Int64(a.sentCount)), .optional(a.resolvedAt),
        ]
        try await write { s in
            if try await s.one("SELECT id FROM alerts WHERE id = ?", [.text(a.id)]) == nil {
                try await s.execute("INSERT INTO alerts (\(Self.alertColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
            } else {
                try await s.execute("""
                    UPDATE alerts SET rule_id = ?, rule_name = ?, instance_id = ?, severity = ?, state = ?, message = ?, value = ?, fired_at = ?,
                        last_sent_at = ?, sent_count = ?, resolved_at = ? WHERE id = ?
                    """, Array(values.dropFirst()) + [.text(a.id)])
            }
        }
    }
}
