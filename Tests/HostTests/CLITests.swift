import Foundation
import Testing

@testable import Host

@Suite("CLI")
struct CLITests {
    @Test func cronNextPrintsFireTimesAndExitsTwoOnAnInvalidExpression() async throws {
        let ok = try await runProcess(Build.synchost.path, ["cron", "next", "0 7 * * *", "--from", "2026-11-23T00:00:00Z", "--count", "2", "--tz", "Asia/Shanghai"])
        #expect(ok.status == 0)
        #expect(ok.stdout == "2026-11-24T07:00:00+08:00\n2026-11-25T07:00:00+08:00\n")
        let bad = try await runProcess(Build.synchost.path, ["cron", "next", "0 7 * * 9"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("day-of-week field: 9 is out of range 0-7"))
        #expect(bad.stdout.isEmpty)
        #expect(try await runProcess(Build.synchost.path, ["cron", "next", "@daily", "--tz", "Mars/Olympus"]).status == 2)
    }

    @Test func pluginsListAndInspectShowTheManifest() async throws {
        let dir = try pluginDirectoryWithInTreePlugins()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "x".write(to: dir.appendingPathComponent("broken.so"), atomically: true, encoding: .utf8)
        let list = try await runProcess(Build.synchost.path, ["plugins", "list", "--plugins", dir.path])
        #expect(list.status == 0)
        #expect(list.stdout.contains("NAME"))
        #expect(list.stdout.contains("customers,phones,cdrs"))
        #expect(list.stdout.contains("broken.so") && list.stdout.contains("failed: dlopen failed"))
        let inspect = try await runProcess(Build.synchost.path, ["plugins", "inspect", "guanke", "--plugins", dir.path])
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("*/10 9-23 * * *"))
        #expect(inspect.stdout.contains("password"))
        let missing = try await runProcess(Build.synchost.path, ["plugins", "inspect", "nope", "--plugins", dir.path])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no plugin named \"nope\""))
    }

    @Test func runOnceRefusesUnknownParametersAndConfigKeysByName() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try await compileCPlugin(into: dir, fileName: "tiny.so")
        let db = dir.appendingPathComponent("x.db").path
        let badParam = try await runProcess(Build.synchost.path, ["run-once", "tiny_c", "bulk", "--plugins", dir.path, "--database", db, "--param", "pages=3"])
        #expect(badParam.status != 0)
        #expect(badParam.stderr.contains("unknown key \"pages\""))
        let badConfig = try await runProcess(Build.synchost.path, ["run-once", "tiny_c", "bulk", "--plugins", dir.path, "--database", db, "--config", #"{"greeting": 5}"#])
        #expect(badConfig.stderr.contains("\"greeting\" must be string, got integer"))
        let ok = try await runProcess(Build.synchost.path, ["run-once", "tiny_c", "sync", "--plugins", dir.path, "--database", db, "--param", "with_c=true"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("succeeded: fetched 3, inserted 3"))
    }
}
