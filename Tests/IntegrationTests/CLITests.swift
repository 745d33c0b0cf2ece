import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

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

@Suite("CLI: instances, schedules, run, runs on the database")
struct CLIStoreTests {
    @Test func aDatabaseLocationInNoneOfTheThreeFormsIsRefusedWithExitStatusTwo() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for bad in ["Removed stale pid file.\npostgres://synchost:synchost@127.0.0.1:54329/synchost_test", "mysql://h/db", "sqlite:"] {
            let r = try await runProcess(Build.synchost.path, ["instances", "list", "--data-dir", dir.path, "--database", bad])
            #expect(r.status == 2, "\(bad.debugDescription): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("postgres:// or postgresql:// URL, sqlite:PATH, or a plain file path"), "\(r.stderr)")
        }
        // Nothing was created for them.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.contains("postgres") && !$0.contains("mysql") })
    }

    @Test func anOperatorManagesInstancesSchedulesAndRunsFromTheCommandLine() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plugins = dir.appendingPathComponent("plugins")
        try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
        _ = try await compileCPlugin(into: plugins, fileName: "tiny.so")
        let common = ["--plugins", plugins.path, "--database", dir.appendingPathComponent("db.sqlite").path]
        func cli(_ args: [String]) async throws -> ProcessResult { try await runProcess(Build.synchost.path, args + common) }

        let added = try await cli(["instances", "add", "n1", "tiny_c", "--set", "greeting=bonjour", "--set", "password=s3cr3t-value"])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.contains("greet  */5 * * * *"))
        let bad = try await cli(["instances", "add", "n2", "tiny_c", "--set", "greeting=5"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("\"greeting\" must be string, got integer"))
        let list = try await cli(["instances", "list"])
        #expect(list.stdout.contains("n1") && list.stdout.contains("\"password\":\"***\""))
        #expect(!list.stdout.contains("s3cr3t-value"))

        let schedules = try await cli(["schedules", "list", "--json", "--instance", "n1"])
        let id = try #require(try WireJSON.decode(JSONValue.self, from: Array(schedules.stdout.utf8)).arrayValue?.first?["id"]?.stringValue)
        let set = try await cli(["schedules", "set", id, "--cron", "0 7 * * *", "--tz", "Asia/Shanghai"])
        #expect(set.status == 0, "\(set.stderr)")
        #expect(set.stdout.contains("next ") && set.stdout.contains("T07:00:00+08:00"))
        let badCron = try await cli(["schedules", "set", id, "--cron", "0 25 * * *"])
        #expect(badCron.status != 0)
        #expect(badCron.stderr.contains("hour field: 25 is out of range 0-23"))
        #expect(try await cli(["schedules", "disable", id]).stdout.contains("disabled"))

        // Named schedules: add, address by name, names unique per instance, remove.
        let named = try await cli(["schedules", "add", "n1", "greet", "*/10 * * * *", "--name", "问候同步", "--tz", "Asia/Shanghai"])
        #expect(named.status == 0 && named.stdout.contains("(问候同步): n1/greet */10 * * * * (Asia/Shanghai)"), "\(named.stdout)\(named.stderr)")
        let twice = try await cli(["schedules", "add", "n1", "greet", "0 * * * *", "--name", "问候同步"])
        #expect(twice.status != 0 && twice.stderr.contains("already has a schedule named \"问候同步\""), "\(twice.stderr)")
        #expect(try await cli(["schedules", "list"]).stdout.contains("问候同步"))
        #expect(try await cli(["schedules", "disable", "问候同步"]).stdout.contains("disabled"))
        #expect(try await cli(["schedules", "add", "n1", "nope", "0 * * * *"]).stderr.contains("tiny_c has no job \"nope\""))
        let removed = try await cli(["schedules", "remove", "问候同步"])
        let afterRemove = try await cli(["schedules", "list"])
        #expect(removed.status == 0 && removed.stdout.contains("removed") && !afterRemove.stdout.contains("问候同步"))

        let run = try await cli(["run", "n1", "sync", "--param", "with_c=true", "--verbose"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("1/2 (50%) greetings page 1"), "progress on stderr: \(run.stderr)")
        #expect(run.stdout.contains("succeeded: fetched 3, pages 1, inserted 3"))
        let dry = try await cli(["run", "n1", "sync", "--dry-run"])
        #expect(dry.stdout.contains("unchanged 2"))
        let failing = try await cli(["run", "n1", "fail"])
        #expect(failing.status != 0)
        #expect(failing.stdout.contains("error: upstream: upstream said no"))
        let runs = try await cli(["runs", "list", "--instance", "n1"])
        #expect(runs.stdout.split(separator: "\n").count == 4)
        #expect(runs.stdout.contains("failed"))
        // Alert rules: the defaults are listed; add, change, disable, remove with the API's checks.
        let rules = try await cli(["alerts", "rules"])
        #expect(rules.status == 0 && rules.stdout.contains("default-health") && rules.stdout.contains("health_below"), "\(rules.stdout)\(rules.stderr)")
        let rule = try await cli(["alerts", "add-rule", "--id", "fails", "--kind", "consecutive_failures", "--instance", "n1", "--threshold", "1",
                                  "--severity", "critical", "--name", "连续失败"])
        #expect(rule.status == 0 && rule.stdout.contains("consecutive_failures") && rule.stdout.contains("连续失败"), "\(rule.stdout)\(rule.stderr)")
        let badKind = try await cli(["alerts", "add-rule", "--kind", "sometimes", "--threshold", "1"])
        #expect(badKind.status != 0 && badKind.stderr.contains("--kind \"sometimes\": one of consecutive_failures"), "\(badKind.stderr)")
        let noInstance = try await cli(["alerts", "add-rule", "--kind", "health_below", "--threshold", "50", "--instance", "ghost"])
        #expect(noInstance.status != 0 && noInstance.stderr.contains("no instance \"ghost\""), "\(noInstance.stderr)")
        let changed = try await cli(["alerts", "set-rule", "fails", "--threshold", "3", "--repeat-minutes", "30"])
        #expect(changed.status == 0 && changed.stdout.contains(" 3 ") && changed.stdout.contains("30m") && changed.stdout.contains("critical"), "\(changed.stdout)")
        #expect(try await cli(["alerts", "disable-rule", "fails"]).stdout.contains("fails disabled"))
        let stored = try await cli(["alerts", "rules", "--json"])
        let fails = try WireJSON.decode(JSONValue.self, from: Array(stored.stdout.utf8)).arrayValue?.first { $0["id"] == "fails" }
        #expect(fails?["threshold"]?.doubleValue == 3 && fails?["enabled"] == false && fails?["instance"] == "n1", "\(stored.stdout)")
        #expect(try await cli(["alerts", "remove-rule", "fails"]).stdout.contains("removed"))
        #expect(try await cli(["alerts", "remove-rule", "fails"]).status != 0)
        let active = try await cli(["alerts", "list", "--all"])
        #expect(active.status == 0 && active.stdout.contains("SEVERITY"), "\(active.stderr)")

        // Reports: saved from the API's JSON, previewed as a table and as files, removed.
        let spec = dir.appendingPathComponent("report.json")
        try Data(#"{"id": "daily", "name": "问候日报", "instance": "n1", "collection": "greetings", "formats": ["csv"]}"#.utf8).write(to: spec)
        let saved = try await cli(["reports", "save", "--file", spec.path])
        #expect(saved.status == 0 && saved.stdout.contains("added report daily"), "\(saved.stdout)\(saved.stderr)")
        #expect(try await cli(["reports", "list"]).stdout.contains("n1/greetings"))
        let table = try await cli(["reports", "preview", "daily"])
        #expect(table.status == 0 && table.stdout.contains("问候日报") && table.stdout.split(separator: "\n").count >= 5, "\(table.stdout)\(table.stderr)")
        let csvPath = dir.appendingPathComponent("daily.csv").path
        let csv = try await cli(["reports", "preview", "daily", "--format", "csv", "--output", csvPath])
        #expect(csv.status == 0 && csv.stdout.contains("3 row(s)"), "\(csv.stdout)\(csv.stderr)")
        #expect(String(decoding: FileManager.default.contents(atPath: csvPath) ?? Data(), as: UTF8.self).split(whereSeparator: \.isNewline).count == 4)
        #expect(try await cli(["reports", "preview", "daily", "--format", "xlsx"]).stderr.contains("give --output"))
        try Data(#"{"id": "daily", "name": "x", "instance": "n1", "collection": "greetings", "cron": "0 8 * * *"}"#.utf8).write(to: spec)
        let unsendable = try await cli(["reports", "save", "--file", spec.path])
        #expect(unsendable.status != 0 && unsendable.stderr.contains("a scheduled report needs channels"), "\(unsendable.stderr)")
        try Data(#"{"id": "daily", "name": "x", "instance": "n1", "collection": "greetings", "colour": "red"}"#.utf8).write(to: spec)
        #expect(try await cli(["reports", "save", "--file", spec.path]).stderr.contains("unknown field \"colour\""))
        #expect(try await cli(["reports", "remove", "daily"]).stdout.contains("removed report daily"))
        #expect(try await cli(["reports", "remove", "daily"]).status != 0)

        #expect(try await cli(["instances", "remove", "n1", "--purge"]).status == 0)
        #expect(try await cli(["instances", "list", "--json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    }
}
