import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// `synchost demo` as a user runs it (the real binary, the real plugins, the simulators), and the web admin
/// page rendered by a real headless Chromium against it.
@Suite("synchost demo and the web admin page", .serialized, .needs(.endToEnd), .needs(.chromium))
struct DemoTests {
    @Test func theDemoSyncsEveryUpstreamNotifiesOnAProjectChangeServesThePageAndStopsOnCtrlC() async throws {
        let dir = try temporaryDirectory("demo")
        defer { try? FileManager.default.removeItem(at: dir) }
        let demo = Process()
        demo.executableURL = Build.synchost
        demo.arguments = ["demo", "--port", "0", "--data-dir", dir.path, "--plugins", Build.products.path, "--churn", "1",
                          "--cdrs-per-day", "300", "--records-per-day", "500", "--contacts", "300"]
        let out = Pipe()
        demo.standardOutput = out
        demo.standardError = FileHandle.nullDevice
        try demo.run()
        defer { if demo.isRunning { demo.terminate() } }
        let banner: String = try await withCheckedThrowingContinuation { c in
            Thread.detachNewThread {
                var text = ""
                while !text.contains("Ctrl-C") {
                    let chunk = out.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                }
                c.resume(returning: text)
            }
        }
        let page = try #require(banner.firstMatch(of: /web admin: +(http:\/\/127\.0\.0\.1:\d+)\/#token=([0-9a-f]+)/), "\(banner)")
        let base = String(page.1), token = String(page.2)
        func api(_ method: String, _ path: String) async throws -> HTTPResult { try await request(method, base + "/api/v1" + path, token: token) }
        func count(_ instance: String, _ collection: String) async throws -> Int {
            let c = try await api("GET", "/instances/\(instance)/collections").json?["collections"]?.arrayValue
            return Int(c?.first { $0["name"]?.stringValue == collection }?["records"]?.intValue ?? 0)
        }
        // Within seconds: customers, CDRs, stats, contacts and projects.
        let wanted = [("vos-node1", "customers"), ("vos-node1", "cdrs"), ("guanke", "grade_stats"), ("wecom-corp", "contacts"), ("projects", "projects")]
        var missing = wanted
        for _ in 0..<300 where !missing.isEmpty {
            var still: [(String, String)] = []
            for (i, c) in missing where try await count(i, c) == 0 { still.append((i, c)) }
            missing = still
            if !missing.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(missing.isEmpty, "still empty: \(missing)")

        // A project status change upstream (the demo churns one every second) → a notification to ops-robot.
        // Sync until a change has come through (each sync sees the churn since the last one).
        var notified = false
        for attempt in 0..<100 where !notified {
            if attempt % 5 == 0 { #expect(try await api("POST", "/instances/projects/jobs/sync/run").status == 202) }
            let n = try await api("GET", "/notifications?channel=ops-robot").json?["notifications"]?.arrayValue ?? []
            notified = n.contains { $0["source_instance"] == "projects" && $0["state"] == "sent" }
            if !notified { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(notified)

        // The web page in a real browser: it signs in from the fragment and renders live data.
        func dom(_ query: String) async throws -> String {
            let r = try await runProcess("/usr/bin/env", ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                                          "--virtual-time-budget=6000", "--dump-dom", "\(base)/\(query)#token=\(token)"])
            #expect(r.status == 0, "chromium: \(r.stderr.suffix(500))")
            // What the page rendered (the <main> element), not its script.
            guard let start = r.stdout.range(of: "<main"), let end = r.stdout.range(of: "</main>") else { return r.stdout }
            return String(r.stdout[start.lowerBound..<end.upperBound])
        }
        let overview = try await dom("")
        #expect(overview.contains("loaded") && overview.contains("projectsync") && !overview.contains("class=\"err\""), "\(overview.suffix(2000))")
        let data = try await dom("?view=data&instance=vos-node1&collection=customers")
        #expect(data.contains("Source: <b>cache</b>") && data.contains("customers") && data.contains("Last synced"), "\(data.suffix(2000))")
        let schedules = try await dom("?view=schedules")
        #expect(schedules.contains("*/10 9-23 * * *") && schedules.contains("next: 20"), "\(schedules.suffix(2000))")
        let runs = try await dom("?view=runs")
        #expect(runs.contains("status-succeeded") && runs.contains("contacts_full"))
        let signedOut = try await runProcess("/usr/bin/env", ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=3000", "--dump-dom", base + "/"])
        #expect(signedOut.stdout.contains("Admin token") && !signedOut.stdout.contains("projectsync"))

        // Ctrl-C stops everything cleanly.
        kill(demo.processIdentifier, SIGINT)
        let exited = await demo.exited()
        #expect(exited == 0)
    }
}
