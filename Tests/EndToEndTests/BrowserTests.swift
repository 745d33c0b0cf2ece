import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// The web admin page driven in a real headless Chromium through Selenium (Tests/Fixtures/Browser).
@Suite("Web admin page in headless Chromium", .serialized, .needs(.chromium), .needs(.python))
struct BrowserTests {
    @Test func signInAddAScheduleAsYouTypeCreateAnInstanceAndSeeRuns() async throws {
        let host = try await TestHost()
        #expect(try await host.api("POST", "/instances", #"{"id": "g", "plugin": "guanke", "config": {"base_url": "http://127.0.0.1:9", "secret": "s"}}"#).status == 201)
        let python = Build.packageRoot.appendingPathComponent(".venv-test/bin/python").path
        let script = Build.packageRoot.appendingPathComponent("Tests/Fixtures/Browser/admin_page.py").path
        let base = host.base.replacingOccurrences(of: "/api/v1", with: "")
        let r = try await runProcess(python, [script, base, TestHost.token])
        #expect(r.status == 0 && r.stdout.contains("ok"), "\(r.stdout.suffix(1000))\n\(r.stderr.suffix(3000))")
        // What the page did is in the database.
        let added = try await host.store.schedules(instance: "g").first { $0.cron == "*/20 9-18 * * 1-5" }
        #expect(added?.timezone == "Asia/Shanghai" && added?.params["dates"] == "T-1" && added?.job == "grade_stats" && added?.name == "工作日分级统计")
        #expect(try await host.store.instance(id: "node2")?.plugin == "vos")
        #expect(try await host.store.schedules(instance: "g").filter { $0.cron.hasPrefix("61") }.isEmpty)
        #expect(try await host.store.tokens(includeRevoked: false).contains { $0.name == "grafana" && $0.role == .viewer })
        await host.stop()
    }
}
