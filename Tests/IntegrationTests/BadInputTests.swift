import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// A corpus of bad input through the API and the CLI: always a 4xx (or a non-zero exit) with a clear
/// message, never a 5xx or a crash, and nothing changed.
@Suite("Bad input corpus")
struct BadInputTests {
    @Test func theAPIAnswersEveryBadRequestWithA4xxAndChangesNothing() async throws {
        let host = try await TestHost()
        #expect(try await host.api("POST", "/instances", #"{"id": "g", "plugin": "guanke", "config": {"base_url": "http://127.0.0.1:9", "secret": "s"}}"#).status == 201)
        let before = (instances: try await host.store.instances().count, schedules: try await host.store.schedules(instance: nil).count)
        let huge = "{\"id\": \"x\", \"plugin\": \"vos\", \"config\": {\"base_url\": \"" + String(repeating: "a", count: 2 << 20) + "\"}}"
        let corpus: [(String, String, String?)] = [
            ("POST", "/instances", "{"), ("POST", "/instances", "[]"), ("POST", "/instances", "null"), ("POST", "/instances", "\u{0}\u{1}"),
            ("POST", "/instances", #"{"id": 5, "plugin": "vos"}"#), ("POST", "/instances", #"{"id": "a", "plugin": ["vos"]}"#),
            ("POST", "/instances", #"{"id": "'; DROP TABLE instances; --", "plugin": "vos"}"#),
            ("POST", "/instances", #"{"id": "../../etc/passwd", "plugin": "vos"}"#),
            ("POST", "/instances", #"{"id": "ok1", "plugin": "../../../../tmp/evil"}"#),
            ("POST", "/instances", #"{"id": "ok2", "plugin": "vos", "config": {"base_url": 7}}"#),
            ("POST", "/instances", #"{"id": "ok3", "plugin": "vos", "config": {"base_url": "ftp://x"}}"#),
            ("POST", "/instances", #"{"id": "ok4", "plugin": "guanke", "config": {"base_url": "http://x", "secret": "s", "page_size": 100000}}"#),
            ("POST", "/instances", huge),
            ("PATCH", "/instances/g", #"{"config": {"page_size": "many"}}"#), ("PATCH", "/instances/g", #"{"enabled": "yes"}"#),
            ("PATCH", "/instances/nope", #"{"enabled": true}"#), ("DELETE", "/instances/nope", nil), ("DELETE", "/instances/g?purge=maybe", nil),
            ("POST", "/schedules", #"{"instance": "g", "job": "grade_stats", "cron": "61 * * * *"}"#),
            ("POST", "/schedules", #"{"instance": "g", "job": "grade_stats", "cron": "* * * *"}"#),
            ("POST", "/schedules", #"{"instance": "g", "job": "grade_stats", "cron": "@sometimes"}"#),
            ("POST", "/schedules", #"{"instance": "g", "job": "grade_stats", "cron": "0 7 * * *", "timezone": "Mars/Olympus"}"#),
            ("POST", "/schedules", #"{"instance": "g", "job": "grade_stats' OR 1=1 --", "cron": "0 7 * * *"}"#),
            ("POST", "/schedules", #"{"instance": "nope", "job": "grade_stats", "cron": "0 7 * * *"}"#),
            ("POST", "/schedules", #"{"instance": "g", "job": "grade_stats", "cron": "0 7 * * *", "params": {"dates": 5}}"#),
            ("PATCH", "/schedules/nope", #"{"cron": "0 7 * * *"}"#),
            ("POST", "/instances/g/jobs/nope/run", nil), ("POST", "/instances/g/jobs/grade_stats/run", #"{"params": {"bogus": 1}}"#),
            ("POST", "/instances/g/jobs/grade_stats/run", #"{"dry_run": "yes"}"#),
            ("GET", "/runs?status=exploded", nil), ("GET", "/runs?limit=100000", nil), ("GET", "/runs?since=yesterday", nil),
            ("GET", "/runs/nope", nil), ("POST", "/runs/nope/cancel", nil),
            ("GET", "/instances/g/collections/nope", nil), ("GET", "/instances/g/collections/grade_stats?limit=0", nil),
            ("GET", "/instances/g/collections/grade_stats?cursor=garbage", nil), ("GET", "/instances/g/collections/grade_stats?order=random", nil),
            ("GET", "/instances/g/collections/grade_stats?na%27me=1", nil), ("GET", "/instances/g/collections/grade_stats/x?cache=maybe", nil),
            ("GET", "/plugins/..%2F..%2Fetc", nil), ("GET", "/plugins/%2e%2e/instances/g/grade-stats", nil),
            ("GET", "/plugins/guanke/instances/g/grade-stats?date=2025-02-30", nil), ("GET", "/plugins/guanke/instances/g/grade-stats?date=';--", nil),
            ("GET", "/plugins/guanke/instances/nope/grade-stats", nil), ("PUT", "/plugins/guanke/instances/g/grade-stats", nil),
            ("GET", "/cron/preview?expr=*/0%20*%20*%20*%20*", nil), ("GET", "/cron/preview", nil),
            ("GET", "/notifications?state=lost", nil), ("POST", "/notifications/test", #"{"channel": "g", "text": "x"}"#),
            ("POST", "/notifications/test", #"{"text": "x"}"#), ("POST", "/notifications/nope/retry", nil),
        ]
        for (method, path, body) in corpus {
            let r = try await host.api(method, path, body)
            #expect((400..<500).contains(r.status), "\(method) \(path) → \(r.status) \(r.body.prefix(200))")
            if r.status != 413 && r.status != 405 {
                #expect(r.json?["error"]?["message"]?.stringValue?.isEmpty == false, "\(method) \(path): no message in \(r.body.prefix(200))")
            }
        }
        #expect(try await host.store.instances().count == before.instances)
        #expect(try await host.store.schedules(instance: nil).count == before.schedules)
        #expect(try await host.api("GET", "/healthz").status == 404)  // outside /api/v1: not a route
        await host.stop()
    }

    @Test func theCLIRefusesBadInputWithAMessageAndANonZeroExit() async throws {
        let dir = try pluginDirectoryWithInTreePlugins()
        defer { try? FileManager.default.removeItem(at: dir) }
        let common = ["--plugins", dir.path, "--data-dir", dir.path]
        let cases: [[String]] = [
            ["instances", "add", "x", "vos", "--config", "{not json"] + common,
            ["instances", "add", "../x", "vos", "--config", #"{"base_url": "http://x"}"#] + common,
            ["instances", "add", "x", "../../evil"] + common,
            ["instances", "add", "x", "vos", "--set", "base_url"] + common,
            ["run", "nope", "cdrs"] + common,
            ["status", "'; DROP TABLE runs; --"] + common,
            ["schedules", "set", "nope", "--cron", "* * *"] + common,
            ["cron", "next", "0 25 * * *"],
            ["serve", "--port", "70000"] + common,
            ["demo", "--contacts", "-5"],
        ]
        for args in cases {
            let r = try await runProcess(Build.synchost.path, args)
            #expect(r.status != 0 && !r.stderr.isEmpty, "synchost \(args.prefix(4).joined(separator: " ")) → \(r.status)")
            #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Backtrace"), "\(args.prefix(3)) crashed: \(r.stderr.prefix(300))")
        }
    }
}
