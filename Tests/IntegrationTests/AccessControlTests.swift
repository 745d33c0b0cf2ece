import AsyncHTTPClient
import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// Named tokens with roles, the role every route needs (walked from the OpenAPI document), failed sign-ins
/// limited per address, and the audit log of every change with its actor.
@Suite("Access control and audit")
struct AccessControlTests {
    static func createToken(_ host: TestHost, _ name: String, _ role: String) async throws -> String {
        let r = try await host.api("POST", "/tokens", #"{"name": "\#(name)", "role": "\#(role)"}"#)
        try #require(r.status == 201, "\(r.body)")
        return try #require(r.json?["token"]?.stringValue)
    }

    /// A concrete path for a templated one: parameters are ids nothing has (a refused call must be refused for
    /// its role, not because the thing is missing; an allowed one then answers 404 or 400).
    static func concrete(_ template: String) -> String {
        template.split(separator: "/", omittingEmptySubsequences: false).map { $0.hasPrefix("{") ? "walk-none" : String($0) }.joined(separator: "/")
    }

    @Test func everyRouteOfTheOpenAPIDocumentRefusesTheRolesBelowItsOwnAndOnlyThose() async throws {
        let host = try await TestHost(startScheduler: false)
        defer { Task { await host.stop() } }
        let tokens: [AccessRole: String] = [
            .viewer: try await Self.createToken(host, "walk-viewer", "viewer"),
            .operator: try await Self.createToken(host, "walk-operator", "operator"),
            .admin: try await Self.createToken(host, "walk-admin", "admin"),
        ]
        let root = "http://127.0.0.1:\(host.server.port)"
        let doc = try #require(try await request("GET", root + "/openapi.json", token: tokens[.viewer]).json?["paths"]?.objectValue)
        var walked = 0
        var required: [String: String] = [:]
        for (template, ops) in doc.sorted(by: { $0.key < $1.key }) {
            for (method, op) in (ops.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                if op["security"] == .array([]) { continue }
                let role = try AccessRole(parsing: try #require(op["x-required-role"]?.stringValue, "\(method) \(template) states no role"))
                required["\(method.uppercased()) \(template)"] = role.rawValue
                let url = root + Self.concrete(template)
                let body = ["post", "put", "patch"].contains(method) ? "{}" : nil
                for (tokenRole, token) in tokens.sorted(by: { $0.key < $1.key }) {
                    let r = try await request(method.uppercased(), url, token: token, body: body)
                    if tokenRole < role {
                        #expect(r.status == 403, "\(tokenRole) → \(method.uppercased()) \(template): \(r.status) \(r.body.prefix(200))")
                        #expect(r.body.contains("forbidden") && r.body.contains(role.rawValue))
                    } else {
                        #expect(r.status != 403 && r.status != 401, "\(tokenRole) → \(method.uppercased()) \(template): \(r.status) \(r.body.prefix(200))")
                    }
                    walked += 1
                }
            }
        }
        #expect(walked > 100, "the document lists the routes (walked \(walked))")
        // The policy as a user reads it: spot checks of each role's edge.
        #expect(required["GET /api/v1/instances"] == "viewer")
        #expect(required["POST /api/v1/instances/{id}/jobs/{job}/run"] == "operator")
        #expect(required["POST /api/v1/schedules"] == "operator")
        #expect(required["POST /api/v1/notifications/{id}/retry"] == "operator")
        #expect(required["POST /api/v1/instances"] == "admin")
        #expect(required["DELETE /api/v1/instances/{id}"] == "admin")
        #expect(required["POST /api/v1/plugins/rescan"] == "admin")
        #expect(required["GET /api/v1/tokens"] == "admin" && required["GET /api/v1/audit"] == "admin")
        #expect(required["GET /api/v1/plugins/guanke/instances/{id}/grade-stats"] == "viewer")
        #expect(required["POST /api/v1/plugins/guanke/instances/{id}/grade-stats/refresh"] == "operator")
    }

    @Test func tokensAreShownOnceRevokedFromTheCLIAtOnceAndEveryChangeIsAuditedWithItsActor() async throws {
        let host = try await TestHost(startScheduler: false)
        defer { Task { await host.stop() } }
        let secret = "aud1t-SECRET-\(UUID().uuidString.prefix(6))"
        #expect(try await host.api("POST", "/instances", #"{"id": "g", "plugin": "guanke", "config": {"base_url": "http://127.0.0.1:9", "secret": "\#(secret)"}}"#).status == 201)
        let created = try await host.api("POST", "/tokens", #"{"name": "ops-bot", "role": "operator"}"#)
        #expect(created.status == 201)
        let opToken = try #require(created.json?["token"]?.stringValue)
        #expect(opToken.hasPrefix(APIToken.prefix))
        let listed = try await host.api("GET", "/tokens")
        #expect(listed.body.contains("ops-bot") && !listed.body.contains(opToken), "the token is never shown again")
        #expect(try await host.api("POST", "/tokens", #"{"name": "ops-bot", "role": "viewer"}"#).status == 409)
        #expect(try await host.api("POST", "/tokens", #"{"name": "x", "role": "root"}"#).status == 400)
        // The database holds its hash, not the token.
        let path = try #require((host.store as? SQLStore)?.executor as? SQLiteExecutor).path
        #expect(try SecretsAtRestTests.files(in: URL(fileURLWithPath: path).deletingLastPathComponent(), containing: [opToken, secret]).isEmpty)

        // The operator schedules and runs; it may not change instances.
        let op = { (method: String, path: String, body: String?) in try await request(method, host.base + path, token: opToken, body: body) }
        let schedule = try await op("POST", "/schedules", #"{"instance": "g", "job": "cleanup", "cron": "0 4 * * *"}"#)
        #expect(schedule.status == 201, "\(schedule.body)")
        let scheduleID = try #require(schedule.json?["id"]?.stringValue)
        let ran = try await op("POST", "/instances/g/jobs/cleanup/run", "{}")
        #expect(ran.status == 202, "\(ran.body)")
        let refused = try await op("PATCH", "/instances/g", #"{"enabled": true}"#)
        #expect(refused.status == 403 && refused.body.contains("admin"), "\(refused.body)")
        #expect(try await host.api("PATCH", "/instances/g", #"{"config": {"secret": "\#(secret)-2"}}"#).status == 200)

        // Revoked by another process: refused at once here.
        let revoked = try await runProcess(Build.synchost.path, ["tokens", "revoke", "ops-bot", "--database", path, "--plugins", host.directory.path])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(try await op("GET", "/instances", nil).status == 401)

        let audit = try #require(try await host.api("GET", "/audit?limit=100").json?["entries"]?.arrayValue)
        func entry(_ action: String) -> [String: JSONValue]? { audit.first { $0["action"]?.stringValue == action }?.objectValue }
        #expect(entry("instance.create")?["actor"] == "admin-token")
        #expect(entry("token.create")?["target"] == "ops-bot")
        #expect(entry("schedule.create")?["actor"] == "ops-bot" && entry("schedule.create")?["target"] == .string(scheduleID))
        #expect(entry("schedule.create")?["after"]?["cron"] == "0 4 * * *")
        let opsRun = audit.first { $0["action"] == "run.start" && $0["actor"] == "ops-bot" }
        #expect(opsRun?["after"]?["job"] == "cleanup" && opsRun?["target"] == ran.json?["run_id"])
        let update = try #require(entry("instance.update"))
        #expect(update["before"]?["config"]?["secret"] == "***" && update["after"]?["config"]?["secret"] == "***")
        let revoke = try #require(entry("token.revoke"))
        #expect(revoke["source"] == "cli" && revoke["actor"]?.stringValue?.hasPrefix("cli:") == true)
        #expect(!audit.contains { $0["action"]?.stringValue == "instance.update" && $0["actor"] == "ops-bot" }, "the refused change is not recorded")
        let everything = String(decoding: JSONValue.array(audit).jsonBytes, as: UTF8.self)
        #expect(!everything.contains(secret), "no secret in the audit log")
        // Filters, and the CLI's view of the same log.
        let onlyOps = try await host.api("GET", "/audit?actor=ops-bot").json?["entries"]?.arrayValue ?? []
        #expect(!onlyOps.isEmpty && onlyOps.allSatisfy { $0["actor"] == "ops-bot" })
        #expect(try await host.api("GET", "/audit?action=schedule").json?["entries"]?.arrayValue?.allSatisfy { $0["action"]?.stringValue?.hasPrefix("schedule.") == true } == true)
        #expect(try await host.api("GET", "/audit?limit=0").status == 400)
        let cli = try await runProcess(Build.synchost.path, ["audit", "--actor", "ops-bot", "--database", path, "--plugins", host.directory.path])
        #expect(cli.status == 0 && cli.stdout.contains("schedule.create") && cli.stdout.contains("run.start"), "\(cli.stdout)\(cli.stderr)")
    }

    @Test func failedSignInsFromOneAddressAreRefusedForAMinute() async throws {
        let host = try await TestHost(startScheduler: false)
        defer { Task { await host.stop() } }
        for n in 0..<10 {
            #expect(try await request("GET", host.base + "/instances", token: "sht_guess\(n)").status == 401)
        }
        let blocked = try await host.api("GET", "/instances")
        #expect(blocked.status == 429 && blocked.headers["retry-after"] != nil, "even the right token, while refused: \(blocked.status)")
        // No header at all is not a guess: it is not counted (a page without its token yet).
        host.clock.advance(by: 30)
        #expect(try await host.api("GET", "/instances").status == 429)
        host.clock.advance(by: 31)
        #expect(try await host.api("GET", "/instances").status == 200)
        #expect(try await request("GET", host.base + "/instances").status == 401)
        // Behind a reverse proxy on this machine, the address it forwards is the one counted: another client's
        // guesses do not lock this one out.
        var req = HTTPClientRequest(url: host.base + "/instances")
        req.headers.add(name: "x-forwarded-for", value: "203.0.113.9")
        req.headers.add(name: "authorization", value: "Bearer sht_wrong")
        for _ in 0..<10 { _ = try await HTTPClient.shared.execute(req, timeout: .seconds(10)) }
        #expect(try await HTTPClient.shared.execute(req, timeout: .seconds(10)).status.code == 429)
        #expect(try await host.api("GET", "/instances").status == 200, "127.0.0.1 itself is not refused")
    }
}
