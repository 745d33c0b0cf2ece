import Foundation
import PluginAPI
import ProjectServiceSimulator
import Testing
import WeComSimulator

@testable import Host
@testable import TestKit

/// The ProjectSync plugin (real libProjectSync.so) against the project service simulator, notifying through
/// the real Notify plugin into the WeCom simulator.
@Suite("ProjectSync plugin against the project service simulator", .serialized)
struct ProjectSyncPluginTests {
    /// The cache lifetime expires only what the upstream stopped returning: stable projects (never re-written by
    /// incremental syncs) stay however old their last change, and their next change still notifies.
    @Test func cleanupPurgesOnlyProjectsTheUpstreamNoLongerHas() async throws {
        let remote = ProjectServiceSimulator(projects: 10)
        try await remote.start()
        defer { remote.stop() }
        let host = try await TestHost(startOutbox: false, startScheduler: false)
        #expect(try await host.api("POST", "/instances", #"{"id": "ps", "plugin": "projectsync", "config": {"base_url": "\#(remote.server.baseURL)", "api_token": "\#(remote.apiToken)", "cache_ttl_hours": 24}}"#).status == 201)
        // Run directly (no scheduler: moving the clock must not fire the default schedules meanwhile).
        func run(_ job: String) async throws -> RunRecord {
            let queued = try await host.kernel.instances!.enqueue(instance: "ps", job: job, params: [:], dryRun: false, trigger: "manual")
            return try await host.kernel.runner!.execute(queued, instance: try await host.store.instance(id: "ps")!.info)
        }
        #expect(try await run("sync").counts.inserted == 10)
        remote.forget("P-1002")
        host.clock.advance(by: 48 * 3600)  // two cache lifetimes later, on the host's clock
        let cleanup = try await run("cleanup_cache")
        #expect(cleanup.status == .succeeded && cleanup.counts.deleted == 1, "\(cleanup.message ?? "") \(cleanup.error ?? "")")
        let cached = try await host.store.records(instance: "ps", collection: "projects", query: RecordQuery()).records.map(\.key)
        #expect(cached.count == 9 && !cached.contains("P-1002"), "\(cached)")

        // An upstream that cannot be read purges nothing.
        remote.faults.down = true
        let failed = try await run("cleanup_cache")
        let left = try await host.store.records(instance: "ps", collection: "projects", query: RecordQuery()).records.count
        #expect(failed.status == .failed && left == 9, "\(failed.status) \(left)")
    }

    /// The seed's reader options: the time-display setting (zone, pattern, absolute or relative) applied to the
    /// times of a project answer, `use_cache=false` reading live, and a 304 from the upstream confirming what is
    /// cached (its synced_at moves on, so the cache lifetime never expires a project the upstream still has).
    @Test func timeDisplayUseCacheAndUnchangedAnswersKeepTheCacheFresh() async throws {
        let remote = ProjectServiceSimulator(projects: 5)
        try await remote.start()
        defer { remote.stop() }
        let host = try await TestHost(startOutbox: false, startScheduler: false)
        #expect(try await host.api("POST", "/instances", #"{"id": "ps", "plugin": "projectsync", "config": {"base_url": "\#(remote.server.baseURL)", "api_token": "\#(remote.apiToken)"}}"#).status == 201)
        func run(_ job: String) async throws -> RunRecord {
            let queued = try await host.kernel.instances!.enqueue(instance: "ps", job: job, params: [:], dryRun: false, trigger: "manual")
            return try await host.kernel.runner!.execute(queued, instance: try await host.store.instance(id: "ps")!.info)
        }
        #expect(try await run("sync").counts.inserted == 5)
        _ = try await run("sync")  // remembers the first page's ETag for this cursor

        // A day later the upstream answers 304: every cached project is confirmed, not only the overlap re-read.
        host.clock.advance(by: 23 * 3600)
        let confirmed = try await run("sync")
        #expect(confirmed.status == .succeeded && confirmed.counts.inserted == 0 && confirmed.counts.updated == 0, "\(confirmed.counts)")
        let cached = try await host.store.records(instance: "ps", collection: "projects", query: RecordQuery()).records
        #expect(cached.count == 5 && cached.allSatisfy { abs($0.syncedAt.timeIntervalSince(host.clock.now)) < 60 },
                "\(cached.map { "\($0.key) \($0.syncedAt)" }) vs \(host.clock.now)")

        // Default display: the instance zone (Asia/Shanghai) and the seed's pattern.
        let base = host.base + "/plugins/projectsync"
        let token = try #require(try await host.api("POST", "/plugins/projectsync/instances/ps/tokens", #"{"project_id": "P-1001"}"#).json?["token"]?.stringValue)
        let read = try await request("GET", "\(base)/projects/P-1001?token=\(token)")
        let updated = try #require(read.json?["project"]?["updated_at"]?.stringValue.flatMap { try? Date($0, strategy: .iso8601) })
        let shanghai = DateFormatter()
        shanghai.timeZone = TimeZone(identifier: "Asia/Shanghai")
        shanghai.dateFormat = "yyyy-MM-dd HH:mm:ss"
        #expect(read.json?["display"]?["updated_at"] == .string(shanghai.string(from: updated)), "\(read.body)")
        #expect(try await host.api("GET", "/plugins/projectsync/instances/ps/config/time-display").json
                == ["timezone": "Asia/Shanghai", "format": "yyyy-MM-dd HH:mm:ss", "mode": "absolute"])

        // Saved: relative times; then another zone and pattern.
        #expect(try await host.api("POST", "/plugins/projectsync/instances/ps/config/time-display", #"{"mode": "relative"}"#).status == 200)
        let relative = try await request("GET", "\(base)/projects/P-1001?token=\(token)&use_cache=false")
        #expect(relative.json?["source"] == "live" && relative.json?["display"]?["cached_at"] == "刚刚", "\(relative.body)")
        let saved = try await host.api("POST", "/plugins/projectsync/instances/ps/config/time-display",
                                       #"{"mode": "absolute", "timezone": "UTC", "format": "yyyy/MM/dd HH:mm"}"#)
        #expect(saved.json == ["timezone": "UTC", "format": "yyyy/MM/dd HH:mm", "mode": "absolute"], "\(saved.body)")
        let utc = DateFormatter()
        utc.timeZone = TimeZone(identifier: "UTC")
        utc.dateFormat = "yyyy/MM/dd HH:mm"
        #expect(try await request("GET", "\(base)/projects/P-1001?token=\(token)").json?["display"]?["updated_at"] == .string(utc.string(from: updated)))

        // Bad settings and flags are refused by name; nothing is saved.
        for (body, word) in [(#"{"mode": "sometimes"}"#, "mode"), (#"{"timezone": "Mars/Base"}"#, "timezone"), (#"{"colour": "red"}"#, "colour"),
                             (#"{"format": "<script>"}"#, "format"), ("[]", "object")] {
            let r = try await host.api("POST", "/plugins/projectsync/instances/ps/config/time-display", body)
            #expect(r.status == 400 && r.body.contains(word), "\(body): \(r.body)")
        }
        #expect(try await host.api("GET", "/plugins/projectsync/instances/ps/config/time-display").json?["timezone"] == "UTC")
        #expect(try await request("GET", "\(base)/projects/P-1001?token=\(token)&use_cache=maybe").status == 400)
        await host.stop()
    }

    @Test func changesNotifyOncePerChannelTokensGuardReadsAndOutagesServeStaleCache() async throws {
        let remote = ProjectServiceSimulator(projects: 30)
        try await remote.start()
        defer { remote.stop() }
        let wecom = WeComSimulator()
        try await wecom.start()
        defer { wecom.stop() }
        wecom.addRobot(key: "pm")
        let host = try await TestHost()
        #expect(try await host.api("POST", "/instances", #"{"id": "robot", "plugin": "notify", "config": {"channel": "wecom_robot", "webhook_key": "pm", "base_url": "\#(wecom.server.baseURL)", "max_per_minute": 600}}"#).status == 201)
        #expect(try await host.api("POST", "/instances", #"{"id": "app", "plugin": "notify", "config": {"channel": "wecom_app", "corp_id": "\#(wecom.data.corpID)", "corp_secret": "\#(wecom.data.corpSecret)", "agent_id": "1000002", "base_url": "\#(wecom.server.baseURL)", "recipients": ["user001"]}}"#).status == 201)
        let created = try await host.api("POST", "/instances", #"{"id": "ps", "plugin": "projectsync", "config": {"base_url": "\#(remote.server.baseURL)", "api_token": "\#(remote.apiToken)", "notify_channels": ["robot", "app"]}}"#)
        #expect(created.status == 201, "\(created.body)")

        // First import: everything cached, nobody notified.
        let first = try await host.run("ps", "sync")
        #expect(first.status == .succeeded && first.counts.inserted == 30, "\(first.counts) \(first.error ?? "")")
        #expect(try await host.store.notifications(NotificationQuery()).isEmpty)
        // Nothing changed: the next sync writes nothing (the overlap re-read is skipped by version).
        let quiet = try await host.run("ps", "sync")
        #expect(quiet.counts.inserted == 0 && quiet.counts.updated == 0, "\(quiet.counts)")

        // A status change: exactly one notification per configured channel, delivered and recorded.
        remote.change("P-1005", status: "completed", stage: "验收")
        let changed = try await host.run("ps", "sync")
        #expect(changed.counts.updated == 1, "\(changed.counts)")
        _ = try await host.run("ps", "sync")  // re-reading the overlap must not notify again
        var notes: [OutboxNotification] = []
        for _ in 0..<100 {
            notes = try await host.store.notifications(NotificationQuery())
            if notes.count >= 2 && notes.allSatisfy(\.state.isFinal) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(notes.count == 2 && Set(notes.map(\.channel)) == ["robot", "app"], "\(notes.map(\.channel))")
        #expect(notes.allSatisfy { $0.state == .sent && $0.message.text.contains("completed") && $0.message.text.contains("P-1005") })
        #expect(wecom.delivered.count == 2)
        // A change nobody watches (the name) notifies nobody.
        remote.change("P-1006", name: "新名字")
        _ = try await host.run("ps", "sync")
        #expect(try await host.store.notifications(NotificationQuery()).count == 2)

        // Access tokens: created by an admin, checked without the admin token.
        let base = host.base + "/plugins/projectsync"
        let issued = try await host.api("POST", "/plugins/projectsync/instances/ps/tokens", #"{"project_id": "P-1005", "ttl_hours": 2}"#)
        #expect(issued.status == 201, "\(issued.body)")
        let token = try #require(issued.json?["token"]?.stringValue)
        let ok = try await request("GET", "\(base)/projects/P-1005/verify-access?token=\(token)")
        #expect(ok.status == 200 && ok.json?["valid"] == true, "\(ok.body)")
        let read = try await request("GET", "\(base)/projects/P-1005?token=\(token)")
        #expect(read.status == 200 && read.json?["source"] == "cache" && read.json?["project"]?["status"] == "completed", "\(read.body)")
        #expect(try await request("GET", "\(base)/projects/P-1005").json?["error"]?["code"] == "token_missing")
        // The page the link opens: HTML with no script, in Chinese or English, escaped; refused plainly without a token.
        let link = try #require(issued.json?["page"]?.stringValue)
        let page = try await request("GET", host.base.replacingOccurrences(of: "/api/v1", with: "") + link + "&token=\(token)")
        #expect(page.status == 200 && page.headers["content-type"] == "text/html; charset=utf-8", "\(page.status) \(link) \(page.body.suffix(300))")
        #expect(page.body.contains("<html lang=\"zh-CN\">") && page.body.contains("状态") && page.body.contains("completed") && page.body.contains("P-1005"))
        #expect(page.headers["content-security-policy"]?.contains("default-src 'none'") == true && !page.body.contains("<script"))
        let english = try await request("GET", "\(base)/projects/P-1005/page?token=\(token)&lang=en")
        #expect(english.body.contains("<html lang=\"en\">") && english.body.contains("Status"))
        let refused = try await request("GET", "\(base)/projects/P-1005/page?lang=en")
        #expect(refused.status == 401 && refused.body.contains("not valid or has expired"), "\(refused.status) \(refused.body.prefix(300))")
        let other = try await request("GET", "\(base)/projects/P-1001?token=\(token)")
        #expect(other.status == 403 && other.json?["error"]?["code"] == "token_wrong_project")
        let forgedToken = String(token.dropLast(3)) + (token.hasSuffix("AAA") ? "BBB" : "AAA")
        let forged = try await request("GET", "\(base)/projects/P-1005/verify-access?token=\(forgedToken)")
        #expect(forged.status == 200 && forged.json?["valid"] == false && forged.json?["reason"] == "token_invalid", "\(forged.body)")
        let wrong = try await request("GET", "\(base)/projects/P-1001/verify-access?token=\(token)")
        #expect(wrong.status == 200 && wrong.json?["valid"] == false && wrong.json?["reason"] == "token_wrong_project", "\(wrong.body)")
        for malformed in ["", "?token=", "?token=not-a-jwt", "?token=a.b"] {
            let r = try await request("GET", "\(base)/projects/P-1005/verify-access\(malformed)")
            #expect(r.status == 400 && r.json?["error"]?["code"] == "invalid", "\(malformed): \(r.body)")
        }
        let short = try await host.api("POST", "/plugins/projectsync/instances/ps/tokens", #"{"project_id": "P-1005", "ttl_seconds": 1}"#)
        let shortToken = try #require(short.json?["token"]?.stringValue)
        try await Task.sleep(for: .milliseconds(1_200))
        let expired = try await request("GET", "\(base)/projects/P-1005?token=\(shortToken)")
        #expect(expired.status == 401 && expired.json?["error"]?["code"] == "token_expired", "\(expired.body)")
        let revokable = try await host.api("POST", "/plugins/projectsync/instances/ps/tokens", #"{"project_id": "P-1005"}"#)
        let jti = try #require(revokable.json?["jti"]?.stringValue)
        #expect(try await host.api("DELETE", "/plugins/projectsync/instances/ps/tokens/\(jti)").status == 200)
        let revoked = try await request("GET", "\(base)/projects/P-1005?token=\(try #require(revokable.json?["token"]?.stringValue))")
        #expect(revoked.status == 401 && revoked.json?["error"]?["code"] == "token_revoked")
        #expect(try await host.api("POST", "/plugins/projectsync/instances/ps/tokens", #"{"project_id": "P-9999"}"#).status == 404)
        #expect(try await host.api("POST", "/plugins/projectsync/instances/ps/tokens", #"{"project_id": 5}"#).status == 400)
        let listed = try await host.api("GET", "/plugins/projectsync/instances/ps/tokens")
        #expect(listed.json?["tokens"]?.arrayValue?.count == 3 && !listed.body.contains(token))

        // force_sync reads live (and sees a new change, which notifies once more); rate-limited per token.
        remote.change("P-1005", progress: 99)
        let live = try await request("GET", "\(base)/projects/P-1005?token=\(token)&force_sync=true")
        #expect(live.json?["source"] == "live" && live.json?["project"]?["progress"] == 99, "\(live.body)")
        let again = try await request("GET", "\(base)/projects/P-1005?token=\(token)&force_sync=true")
        #expect(again.status == 429 && again.json?["error"]?["retry_after"] != nil)
        // An outage: the cache is served, marked stale.
        #expect(try await host.api("PATCH", "/instances/ps", #"{"config": {"force_sync_interval_s": 0}}"#).status == 200)
        remote.faults.down = true
        let stale = try await request("GET", "\(base)/projects/P-1005?token=\(token)&force_sync=true")
        #expect(stale.status == 200 && stale.json?["stale"] == true && stale.json?["project"]?["progress"] == 99, "\(stale.body)")
        let outage = try await host.run("ps", "sync")
        #expect(outage.status == .failed && outage.error?.contains("503") == true, "\(outage.error ?? "")")
        remote.faults = .init()

        // Tombstones: a deleted project answers 410.
        remote.change("P-1005", deleted: true)
        _ = try await host.run("ps", "sync")
        #expect(try await request("GET", "\(base)/projects/P-1005?token=\(token)").status == 410)

        // Sync history and clean-up of expired tokens.
        let history = try await host.api("GET", "/plugins/projectsync/instances/ps/history")
        let rows = try #require(history.json?["history"]?.arrayValue)
        #expect(rows.contains { $0["total"] == 30 && $0["updated"] == 30 } && rows.contains { $0["error"] != .null }, "\(history.body)")
        let cleaned = try await host.run("ps", "cleanup_tokens")
        #expect(cleaned.counts.deleted == 1, "\(cleaned.counts)")
        let manual = try await host.api("POST", "/plugins/projectsync/instances/ps/sync")
        #expect(manual.status == 202)
        _ = try await host.waitForRun(try #require(manual.json?["run_id"]?.stringValue))
        #expect(!host.log.all.contains { $0.contains(remote.apiToken) || $0.contains(token) })
        await host.stop()
    }
}
