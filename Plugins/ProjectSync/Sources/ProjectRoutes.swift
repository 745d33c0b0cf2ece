import Foundation
import PluginAPI

/// The public project reads (an access token instead of the admin token) and the admin routes.
struct ProjectRoutes {
    let instance: InstanceInfo
    let context: RouteContext

    var tokens: AccessTokens { AccessTokens(instance: instance.id, store: context.store) }
    var config: [String: JSONValue] { instance.config }

    static func error(_ status: Int, _ code: String, _ message: String, extra: [String: JSONValue] = [:]) -> RouteResponse {
        var e: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        for (k, v) in extra { e[k] = v }
        return RouteResponse(status: status, body: String(decoding: JSONValue.object(["error": .object(e)]).jsonBytes, as: UTF8.self))
    }

    static func ok(_ v: JSONValue, status: Int = 200) -> RouteResponse {
        RouteResponse(status: status, body: String(decoding: v.jsonBytes, as: UTF8.self))
    }

    /// Runs one route's handler for the instance the host resolved; an access-token refusal is answered with
    /// its status and code.
    static func serve(_ context: RouteContext, _ body: (ProjectRoutes) async throws -> RouteResponse) async throws -> RouteResponse {
        guard let instance = context.instance else {
            return error(404, "no_instance", "no project service instance: pass ?instance= (several are configured) or create one")
        }
        do {
            return try await body(ProjectRoutes(instance: instance, context: context))
        } catch let r as AccessTokens.Refusal {
            return error(r.status, r.code, r.message)
        }
    }

    /// As the seed's front end expects: a well-formed token is answered 200 with valid true or false and the
    /// reason; only a malformed request (no token, not a JWT) is a 400.
    func verifyAccess(_ route: RouteRequest) async throws -> RouteResponse {
        guard let token = route.query["token"], AccessTokens.isWellFormed(token) else {
            return Self.error(400, "invalid", "token: expected ?token= with an access token (three base64url parts separated by dots)")
        }
        do {
            let payload = try await tokens.verify(token, project: route.pathParams["project"] ?? "")
            return Self.ok(["valid": true, "project_id": .string(payload.sub.value), "expires_at": .string(ProjectSync.iso.format(payload.exp.value))])
        } catch let r as AccessTokens.Refusal {
            return Self.ok(["valid": false, "reason": .string(r.code), "message": .string(r.message)])
        }
    }

    func readProject(_ route: RouteRequest) async throws -> RouteResponse {
        let project = route.pathParams["project"] ?? ""
        let payload = try await tokens.verify(route.query["token"], project: project)
        for (name, v) in [("force_sync", route.query["force_sync"]), ("use_cache", route.query["use_cache"])] {
            guard v == nil || v == "true" || v == "false" else { return Self.error(400, "invalid", "\(name) must be true or false") }
        }
        // The seed's `use_cache=false` and `force_sync=true` both read live (rate-limited per token).
        let live = route.query["force_sync"] == "true" || route.query["use_cache"] == "false"
        return try await self.project(project, force: live, jti: payload.jti.value)
    }

    func timeDisplay() async throws -> RouteResponse {
        Self.ok(try await TimeDisplay.load(context.store, config: config).json)
    }

    func saveTimeDisplay(_ route: RouteRequest) async throws -> RouteResponse {
        guard let body = route.body, let parsed = try? JSONValue.parse(Array(body.utf8)) else {
            return Self.error(400, "invalid", "body must be a JSON object: {\"timezone\": \"Asia/Shanghai\", \"format\": \"yyyy-MM-dd HH:mm:ss\", \"mode\": \"absolute\"}")
        }
        let display: TimeDisplay
        do { display = try TimeDisplay.merging(parsed, into: try await TimeDisplay.load(context.store, config: config)) } catch let e as PluginError {
            return Self.error(400, "invalid", e.message)
        }
        try await context.store.setState(TimeDisplay.stateKey, display.json)
        return Self.ok(display.json)
    }

    func revokeToken(_ route: RouteRequest) async throws -> RouteResponse {
        let jti = route.pathParams["jti"] ?? ""
        guard try await tokens.revoke(jti) else { return Self.error(404, "not_found", "no access token \(jti)") }
        return Self.ok(["revoked": true, "jti": .string(jti)])
    }

    func syncNow() async throws -> RouteResponse {
        let id = try await context.scheduler.enqueue(job: "sync", trigger: "manual")
        return Self.ok(["run_id": .string(id), "status": "queued"], status: 202)
    }

    /// Cache first (milliseconds); live when asked (`force_sync`, rate-limited per token), when not cached
    /// or when the entry outlived the cache lifetime; the cache marked `stale` when the remote fails.
    func project(_ id: String, force: Bool, jti: String) async throws -> RouteResponse {
        if force {
            let gap = Double(try config.int("force_sync_interval_s") ?? 10)
            let key = "force/\(jti)"
            if let last = try await context.store.state(key)?.doubleValue, Date().timeIntervalSince1970 - last < gap {
                let wait = Int((gap - (Date().timeIntervalSince1970 - last)).rounded(.up))
                return Self.error(429, "rate_limited", "force_sync at most every \(Int(gap)) s per access token; retry in \(wait) s", extra: ["retry_after": .int(Int64(wait))])
            }
            try await context.store.setState(key, .double(Date().timeIntervalSince1970))
        }
        let ttl = Double(try config.int("cache_ttl_hours") ?? 24) * 3600
        let cached = try await context.store.list(.init(collection: "projects", keyFrom: id, keyTo: id, limit: 1)).records.first
        let fresh = cached.map { Date().timeIntervalSince($0.syncedAt) < ttl } ?? false
        if !force, let cached, fresh { return try await respond(cached.data, source: "cache", syncedAt: cached.syncedAt, stale: false) }
        do {
            let remote = try RemoteProjects(config: config, http: context.http)
            let version = cached?.data["version"]?.intValue
            let etag = version.map { "\"\(id)-\($0)\"" }
            // One quick attempt: a reader waits for the cache, not for retries.
            let answer = try await remote.get("/api/v1/projects/\(URLEncoding.component(id))", ifNoneMatch: etag,
                                              options: .init(timeoutMs: 5_000, maxAttempts: 1, retryOnStatus: []))
            switch answer {
            case .notModified:
                // Confirmed by the upstream: the cache entry's synced_at moves on with it.
                try await context.store.upsert("projects", [Record(key: id, data: cached!.data)])
                return try await respond(cached!.data, source: "live", syncedAt: Date(), stale: false)
            case .ok(let project, _):
                let sync = ProjectSync(remote: remote, config: config, instance: instance.id, store: context.store,
                                       notifications: context.notifications, log: context.log)
                var outcome = ProjectSync.Outcome()
                _ = try await sync.apply([project], outcome: &outcome, newest: nil)
                return try await respond(project, source: "live", syncedAt: Date(), stale: false)
            }
        } catch let e as PluginError where e.kind == .notFound {
            return Self.error(404, "not_found", "project \(id) does not exist")
        } catch {
            guard let cached else {
                return Self.error(503, "unavailable", "project \(id) is not cached and the project service failed: \((error as? PluginError)?.message ?? "\(error)")")
            }
            return try await respond(cached.data, source: "cache", syncedAt: cached.syncedAt, stale: true, error: (error as? PluginError)?.message ?? "\(error)")
        }
    }

    func respond(_ project: JSONValue, source: String, syncedAt: Date, stale: Bool, error: String? = nil) async throws -> RouteResponse {
        if project["deleted"] == true { return Self.error(410, "deleted", "the project was deleted") }
        // Times as the instance's time-display setting shows them, beside the ISO fields.
        let display = try await TimeDisplay.load(context.store, config: config)
        var shown: [String: JSONValue] = ["cached_at": .string(display.show(syncedAt))]
        for field in ["updated_at", "created_at"] {
            if let d = ProjectSync.date(project[field]?.stringValue) { shown[field] = .string(display.show(d)) }
        }
        var o: [String: JSONValue] = ["project": project, "source": .string(source), "stale": .bool(stale),
                                      "cached_at": .string(ProjectSync.iso.format(syncedAt)), "display": .object(shown)]
        if let error { o["error"] = .string(error) }
        return Self.ok(.object(o))
    }

    func createToken(_ body: String?) async throws -> RouteResponse {
        guard let body, case .object(let o)? = try? JSONValue.parse(Array(body.utf8)) else {
            return Self.error(400, "invalid", "body must be a JSON object: {\"project_id\": \"P-1001\", \"ttl_hours\": 72, \"note\": \"…\"}")
        }
        for k in o.keys where !["project_id", "ttl_hours", "ttl_seconds", "note"].contains(k) { return Self.error(400, "invalid", "unknown field \(k.debugDescription)") }
        guard let project = o["project_id"]?.stringValue, !project.isEmpty else { return Self.error(400, "invalid", "project_id (string) is required") }
        let hours = o["ttl_hours"]?.intValue ?? 72
        guard (1...8760).contains(hours), o["ttl_hours"] == nil || o["ttl_hours"]?.intValue != nil else { return Self.error(400, "invalid", "ttl_hours must be an integer 1-8760") }
        // ttl_seconds, when given, wins (short-lived links).
        let seconds = o["ttl_seconds"]?.intValue
        guard o["ttl_seconds"] == nil || (seconds.map { (1...31_536_000).contains($0) } ?? false) else { return Self.error(400, "invalid", "ttl_seconds must be an integer 1-31536000") }
        guard o["note"] == nil || o["note"]?.stringValue != nil else { return Self.error(400, "invalid", "note must be a string") }
        guard try await context.store.get("projects", key: project) != nil else {
            return Self.error(404, "not_found", "project \(project) is not in the cache (run a sync first)")
        }
        let t = try await tokens.issue(project: project, ttl: seconds.map(Double.init) ?? Double(hours) * 3600, note: o["note"]?.stringValue)
        // The project's public page (relative to the host's address); the link is it with `&token=` and the token
        // appended (a URL carrying a credential would be masked in any answer or log line).
        let page = "/api/v1/plugins/projectsync/projects/\(URLEncoding.component(project))/page?instance=\(URLEncoding.component(instance.id))"
        return Self.ok(["token": .string(t.token), "jti": .string(t.jti), "project_id": .string(project),
                        "expires_at": .string(ProjectSync.iso.format(t.expires)), "page": .string(page)], status: 201)
    }

    func listTokens() async throws -> RouteResponse {
        var all: [JSONValue] = []
        var cursor: String?
        repeat {
            let page = try await context.store.list(.init(collection: "access_tokens", limit: 1000, cursor: cursor))
            all += page.records.map(\.data)
            cursor = page.nextCursor
        } while cursor != nil
        return Self.ok(["tokens": .array(all)])
    }

    func history(_ query: [String: String]) async throws -> RouteResponse {
        let limit = Int(query["limit"] ?? "50") ?? 0
        guard (1...500).contains(limit) else { return Self.error(400, "invalid", "limit must be 1-500") }
        let runs = try await context.scheduler.runs(job: "sync", limit: limit)
        let rows: [JSONValue] = runs.map { r in
            let figures = Dictionary(uniqueKeysWithValues: (r.message ?? "").split(separator: ",").compactMap { part -> (String, Int)? in
                let w = part.split(separator: " ")
                guard w.count == 2, let n = Int(w[1]) else { return nil }
                return (String(w[0]), n)
            })
            let duration = r.startedAt.flatMap { s in r.finishedAt.map { $0.timeIntervalSince(s) } }
            return [
                "run_id": .string(r.id), "status": .string(r.status), "trigger": .string(r.trigger),
                "started_at": r.startedAt.map { .string(ProjectSync.iso.format($0)) } ?? .null,
                "duration_s": duration.map { .double(($0 * 1000).rounded() / 1000) } ?? .null,
                "total": .int(Int64(r.counts.fetched)), "updated": .int(Int64(figures["updated"] ?? 0)),
                "unchanged": .int(Int64(figures["unchanged"] ?? 0)), "failed": .int(Int64(figures["failed"] ?? 0)),
                "error": r.error.map { .string($0) } ?? .null,
            ]
        }
        return Self.ok(["history": .array(rows)])
    }
}
