import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// The web admin page driven in a real headless Chromium through Selenium (Tests/Fixtures/Browser).
@Suite("Web admin page in headless Chromium", .serialized, .needs(.chromium), .needs(.python))
struct BrowserTests {
    @Test func signInManageSchedulesInstancesAndTokensSeePluginViewsLiveInBothLanguagesAndExport() async throws {
        let host = try await TestHost()
        #expect(try await host.api("POST", "/instances", #"{"id": "g", "plugin": "guanke", "config": {"base_url": "http://127.0.0.1:9", "secret": "s"}}"#).status == 201)
        // Ten synced days for the instance's views (the upstream is unreachable here: runs from the page fail).
        var days: [(String, JSONValue)] = []
        for d in 1...10 {
            let date = String(format: "2026-11-%02d", d)
            let fields: [String: JSONValue] = ["date": .string(date), "grade_9": .int(Int64(100 + d * 7)), "grade_1": .int(Int64(40 + d * 3)),
                                               "total_success": .int(Int64(140 + d * 10)), "total_records": .int(Int64(2000 + d)), "complete": true]
            days.append((date, .object(fields)))
        }
        _ = try await host.store.upsert(page("grade_stats", days), instance: "g", runID: nil, now: Date())
        let shots = Build.packageRoot.appendingPathComponent(".build/screenshots")
        let python = Build.packageRoot.appendingPathComponent(".venv-test/bin/python").path
        let script = Build.packageRoot.appendingPathComponent("Tests/Fixtures/Browser/admin_page.py").path
        let base = host.base.replacingOccurrences(of: "/api/v1", with: "")
        let r = try await runProcess(python, [script, base, TestHost.token, shots.path])
        #expect(r.status == 0 && r.stdout.hasPrefix("ok"), "\(r.stdout.suffix(1000))\n\(r.stderr.suffix(3000))")
        // A screenshot of every view in both languages.
        for language in ["en", "zh-CN"] {
            for view in ["overview", "views", "instances", "schedules", "runs", "data", "notifications", "alerts", "reports", "tokens", "audit"] {
                #expect(FileManager.default.fileExists(atPath: shots.appendingPathComponent("\(language)-\(view).png").path), "\(language)-\(view).png")
            }
        }
        // What the page did is in the database.
        let added = try await host.store.schedules(instance: "g").first { $0.cron == "*/20 9-18 * * 1-5" }
        #expect(added?.timezone == "Asia/Shanghai" && added?.params["dates"] == "T-1" && added?.job == "grade_stats" && added?.name == "工作日分级统计")
        #expect(try await host.store.instance(id: "node2")?.plugin == "vos")
        #expect(try await host.store.schedules(instance: "g").filter { $0.cron.hasPrefix("61") }.isEmpty)
        #expect(try await host.store.tokens(includeRevoked: false).contains { $0.name == "grafana" && $0.role == .viewer })
        #expect(try await host.store.alertRules().contains { $0.name == "三次失败" && $0.kind == .consecutiveFailures && $0.threshold == 4 })
        let report = try await host.store.reports().first { $0.spec.name == "分级周报" }?.spec
        #expect(report?.view == "grade_days" && report?.sums == ["grade_9", "grade_1"] && report?.range == "T-3660..T" && report?.cron == nil)
        await host.stop()
    }
}
