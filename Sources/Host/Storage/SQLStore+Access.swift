import Foundation
import PluginAPI

extension SQLStore: AccessStore {
    static let tokenColumns = "id, name, role, hash, created_at, created_by, last_used_at, revoked_at"

    static func token(_ r: SQLRow) -> APIToken {
        APIToken(id: r.text(0) ?? "", name: r.text(1) ?? "", role: AccessRole(rawValue: r.text(2) ?? "") ?? .viewer, hash: r.text(3) ?? "",
                 createdAt: r.date(4) ?? Date(millis: 0), createdBy: r.text(5) ?? "", lastUsedAt: r.date(6), revokedAt: r.date(7))
    }

    static func tokenJSON(_ t: APIToken) -> JSONValue {
        ["id": .string(t.id), "name": .string(t.name), "role": .string(t.role.rawValue), "revoked": .bool(t.revokedAt != nil)]
    }

    public func insertToken(_ token: APIToken) async throws {
        try await write { s in
            if try await s.one("SELECT id FROM api_tokens WHERE name = ? AND revoked_at IS NULL", [.text(token.name)]) != nil {
                throw HostError.conflict("a token named \(token.name.debugDescription) exists already (revoke it first)")
            }
            try await s.execute("INSERT INTO api_tokens (\(Self.tokenColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                [.text(token.id), .text(token.name), .text(token.role.rawValue), .text(token.hash), .int(token.createdAt.millis),
                                 .text(token.createdBy), .null, .null])
            try await Self.audit(s, "token.create", token.name, before: nil, after: Self.tokenJSON(token))
        }
    }

    public func token(hash: String) async throws -> APIToken? {
        try await quickRows("SELECT \(Self.tokenColumns) FROM api_tokens WHERE hash = ?", [.text(hash)]).first.map(Self.token)
    }

    public func tokens(includeRevoked: Bool) async throws -> [APIToken] {
        try await rows("SELECT \(Self.tokenColumns) FROM api_tokens\(includeRevoked ? "" : " WHERE revoked_at IS NULL") ORDER BY created_at, id").map(Self.token)
    }

    public func revokeToken(idOrName: String, now: Date) async throws -> APIToken {
        try await write { s in
            guard let row = try await s.one("SELECT \(Self.tokenColumns) FROM api_tokens WHERE (id = ? OR name = ?) AND revoked_at IS NULL",
                                             [.text(idOrName), .text(idOrName)]) else {
                throw HostError.notFound("no unrevoked token \(idOrName.debugDescription)")
            }
            var token = Self.token(row)
            try await s.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ?", [.int(now.millis), .text(token.id)])
            let before = Self.tokenJSON(token)
            token.revokedAt = now
            try await Self.audit(s, "token.revoke", token.name, before: before, after: Self.tokenJSON(token))
            return token
        }
    }

    public func touchToken(id: String, now: Date) async throws {
        try await write("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [.int(now.millis), .text(id)])
    }

    // MARK: audit

    /// Records a change in the transaction that makes it, when the task acts for someone (`AuditActor.current`).
    static func audit(_ s: any SQLSession, _ action: String, _ target: String, before: JSONValue?, after: JSONValue?) async throws {
        guard let actor = AuditActor.current else { return }
        try await s.execute("""
            INSERT INTO audit_log (at, actor, role, source, address, action, target, before_value, after_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.int(Date().millis), .text(actor.identity.name), .text(actor.identity.role.rawValue), .text(actor.source), .text(actor.address),
                  .text(action), .text(target), before.map { .bytes($0.jsonBytes) } ?? .null, after.map { .bytes($0.jsonBytes) } ?? .null])
    }

    /// The row as it is before a change, read only when the change is recorded: a delivery or a scheduler update,
    /// made for nobody, pays no extra read.
    static func beforeChange<T>(_ read: () async throws -> T?) async throws -> T? {
        AuditActor.current == nil ? nil : try await read()
    }

    public func recordAudit(action: String, target: String, before: JSONValue?, after: JSONValue?) async throws {
        guard AuditActor.current != nil else { return }
        try await write { s in try await Self.audit(s, action, target, before: before, after: after) }
    }

    public func audit(_ q: AuditQuery) async throws -> [AuditEntry] {
        var filters: [String] = []
        var args: [SQLValue] = []
        if let a = q.actor { filters.append("actor = ?"); args.append(.text(a)) }
        if let a = q.action {
            if a.contains(".") { filters.append("action = ?"); args.append(.text(a)) } else { filters.append("action LIKE ?"); args.append(.text(a + ".%")) }
        }
        if let t = q.target { filters.append("target = ?"); args.append(.text(t)) }
        if let since = q.since { filters.append("at >= ?"); args.append(.int(since.millis)) }
        if let before = q.beforeID { filters.append("id < ?"); args.append(.int(before)) }
        let whereSQL = filters.isEmpty ? "" : " WHERE " + filters.joined(separator: " AND ")
        return try await rows("""
            SELECT id, at, actor, role, source, address, action, target, before_value, after_value FROM audit_log\(whereSQL) ORDER BY id DESC LIMIT ?
            """, args + [.int(Int64(q.limit))]).map { r in
            AuditEntry(id: r.int(0) ?? 0, at: r.date(1) ?? Date(millis: 0), actor: r.text(2) ?? "", role: r.text(3) ?? "", source: r.text(4) ?? "",
                       address: r.text(5) ?? "", action: r.text(6) ?? "", target: r.text(7) ?? "",
                       before: r.bytes(8).flatMap { try? WireJSON.decode(JSONValue.self, from: $0) },
                       after: r.bytes(9).flatMap { try? WireJSON.decode(JSONValue.self, from: $0) })
        }
    }

    public func purgeAudit(before cutoff: Date) async throws -> Int {
        try await writeCount("DELETE FROM audit_log WHERE at < ? RETURNING 1", [.int(cutoff.millis)])
    }

    /// An instance as the audit log shows it: secret values (by the manifest, or sealed in the row) as "***".
    func auditJSON(_ i: InstanceRecord) -> JSONValue {
        let secret = secrets.withLock { $0.keysOf }?(i.plugin) ?? []
        var config = i.config
        for (k, v) in config where secret.contains(k) || SecretSealer.isSealed(v) { if v != .null { config[k] = .string(SecretMasker.mask) } }
        return ["plugin": .string(i.plugin), "enabled": .bool(i.enabled), "config": .object(config)]
    }

    static func auditJSON(_ s: ScheduleRecord) -> JSONValue {
        var o: [String: JSONValue] = ["instance": .string(s.instance), "job": .string(s.job), "cron": .string(s.cron), "timezone": .string(s.timezone),
                                      "enabled": .bool(s.enabled), "params": .object(s.params)]
        if let n = s.name { o["name"] = .string(n) }
        return .object(o)
    }
}
