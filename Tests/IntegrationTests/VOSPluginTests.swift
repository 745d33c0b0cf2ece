import Foundation
import PluginAPI
import Testing
import VOSSimulator

@testable import Host
@testable import TestKit

/// The VOS plugin (real libVOS.so, real loader) against the VOS node simulator over loopback.
@Suite("VOS plugin against the node simulator")
struct VOSPluginTests {
    static func config(_ sim: VOSSimulator, timeoutMs: Int = 2000, _ extra: String = "") -> String {
        #"{"base_url": "\#(sim.server.baseURL)", "cdr_pacing_ms": 0, "backfill_spacing_ms": 150, "timeout_ms": \#(timeoutMs)\#(extra)}"#
    }

    /// yyyy-MM-dd, `days` before today in the node's zone (the simulator's and the plugin's default).
    static func day(minus days: Int) -> String {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        let d = c.dateComponents([.year, .month, .day], from: c.date(byAdding: .day, value: -days, to: Date())!)
        return String(format: "%04d-%02d-%02d", d.year!, d.month!, d.day!)
    }

    @Test func aNewNodeSyncsCustomersThenSevenStaggeredDaysOfCDRsAndReSyncingADayAddsNothing() async throws {
        var data = VOSSimulator.Data()
        data.customers = 6
        data.phones = 30
        data.cdrsPerDay = 120
        data.missingFlowNoEvery = 25
        let sim = VOSSimulator(data)
        try await sim.start()
        defer { sim.stop() }
        let host = try await TestHost()

        let created = try await host.api("POST", "/instances", #"{"id": "node1", "plugin": "vos", "config": \#(Self.config(sim))}"#)
        #expect(created.status == 201, "\(created.body)")

        // Initial sync: customers first, then one cdrs job per day, today first, spaced out.
        let customerRuns = try await host.waitForRuns("node1", job: "customers", count: 1, trigger: "initial")
        #expect(customerRuns[0].trigger == "initial")
        #expect(customerRuns[0].status == .succeeded, "\(customerRuns[0].error ?? "")")
        let cdrRuns = try await host.waitForRuns("node1", job: "cdrs", count: 7, trigger: "initial", timeout: .seconds(90))
        #expect(cdrRuns.allSatisfy { $0.status == .succeeded && $0.trigger == "initial" }, "\(cdrRuns.map { "\($0.status) \($0.error ?? "")" })")
        let expectedDays = (0..<7).map { Self.day(minus: $0) }
        #expect(cdrRuns.map { $0.params["date"]?.stringValue ?? "" } == expectedDays)
        let runAts = cdrRuns.compactMap(\.runAt)
        #expect(runAts.count == 7 && zip(runAts, runAts.dropFirst()).allSatisfy { $1.timeIntervalSince($0) >= 0.14 })

        let customers = try await host.api("GET", "/instances/node1/collections/customers")
        #expect(customers.json?["records"]?.arrayValue?.count == 6)
        #expect(customers.json?["source"] == "cache")
        #expect(customers.json?["last_synced_at"]?.stringValue != nil)
        #expect(customers.json?["records"]?.arrayValue?.contains { $0["key"]?.stringValue?.hasPrefix("百融消金") == true } == true)

        // Exactly 7 days × 120 CDRs, keyed by flowNo or content hash.
        let cdrs = try await host.records("node1", "cdrs")
        #expect(cdrs.count == 7 * 120)
        let hashed = cdrs.filter { $0.key.hasPrefix("h:") }.count
        #expect(hashed == 7 * 5)  // every 25th of 120 has no flowNo: indexes 0, 25, 50, 75, 100
        let stats = try await host.api("GET", "/plugins/vos/instances/node1/cdr-stats?from=\(expectedDays[6])&to=\(expectedDays[0])")
        #expect(stats.status == 200, "\(stats.body)")
        #expect(stats.json?["totals"]?["cdrs"] == 840)
        #expect(stats.json?["days"]?.arrayValue?.allSatisfy { $0["cdrs"] == 120 && $0["complete"] == true } == true)

        // Re-syncing a day (and a range) adds nothing.
        let again = try await host.run("node1", "cdrs", params: ["date": .string(expectedDays[2])])
        #expect(again.status == .succeeded)
        #expect(again.counts.inserted == 0 && again.counts.unchanged == 120, "\(again.counts)")
        let range = try await host.run("node1", "cdrs", params: ["date": .string(expectedDays[3]), "to": .string(expectedDays[1])])
        #expect(range.counts.inserted == 0 && range.counts.fetched == 360)
        #expect(try await host.records("node1", "cdrs").count == 840)

        // Bad parameters are a clear error.
        let bad = try await host.run("node1", "cdrs", params: ["date": "2025-02-30"])
        #expect(bad.status == .failed && bad.error?.contains("not a date") == true, "\(bad.error ?? "")")

        // Phones: online ones stored; after churn, the ones gone are offline, none deleted.
        let phones1 = try await host.run("node1", "phones")
        #expect(phones1.status == .succeeded)
        let onlineBefore = try await host.records("node1", "phones")
        #expect(onlineBefore.count == (0..<30).filter(sim.isOnline).count)
        sim.advance()
        _ = try await host.run("node1", "phones")
        let after = try await host.records("node1", "phones")
        let offline = after.filter { $0.json["status"] == "offline" }.map(\.key)
        let expectedOffline = (0..<30).filter { !sim.isOnline(phone: $0) }.map(sim.phoneE164).filter { e in onlineBefore.contains { $0.key == e } }
        #expect(Set(offline) == Set(expectedOffline))
        #expect(after.count >= onlineBefore.count)

        // cache=live re-fetches from the node (the legacy refresh button).
        let before = sim.count(of: "GetCustomer")
        let live = try await host.api("GET", "/instances/node1/collections/customers?cache=live")
        #expect(live.json?["source"] == "live", "\(live.body)")
        #expect(sim.count(of: "GetCustomer") > before)
        await host.stop()
    }

    @Test func everyFaultKnobEndsWithTheRightStatusAndError() async throws {
        var data = VOSSimulator.Data()
        data.customers = 4
        data.cdrsPerDay = 40
        let sim = VOSSimulator(data)
        try await sim.start()
        defer { sim.stop() }
        let host = try await TestHost()
        // backfill_days 0: this test drives the jobs itself.
        #expect(try await host.api("POST", "/instances", #"{"id": "n", "plugin": "vos", "config": \#(Self.config(sim, timeoutMs: 2_500, #", "backfill_days": 0"#))}"#).status == 201)
        _ = try await host.waitForRuns("n", job: "customers", count: 1, trigger: "initial")
        let day = Self.day(minus: 1)

        // 403 from the allow-list: a configuration error, one request, no retry storm.
        sim.faults.forbidden = true
        let calls = sim.requests.count
        let forbidden = try await host.run("n", "customers")
        #expect(forbidden.status == .failed)
        #expect(forbidden.error?.contains("allow-list") == true, "\(forbidden.error ?? "")")
        #expect(sim.requests.count == calls + 1)
        sim.faults = .init()

        sim.faults.emptyBody = true
        let empty = try await host.run("n", "customers")
        #expect(empty.status == .failed && empty.error?.contains("empty body") == true, "\(empty.error ?? "")")
        sim.faults = .init()

        sim.faults.retCode = -10007
        let code = try await host.run("n", "cdrs", params: ["date": .string(day)])
        #expect(code.status == .failed && code.error?.contains("retCode -10007") == true, "\(code.error ?? "")")
        sim.faults = .init()

        sim.faults.wrapArray = true
        let wrapped = try await host.run("n", "cdrs", params: ["date": .string(day)])
        #expect(wrapped.status == .succeeded && wrapped.counts.fetched == 40, "\(wrapped.error ?? "")")
        sim.faults = .init()

        // Slower than the timeout: retried by the host with backoff, then failed with the reason. (The timeout
        // leaves room for a loaded machine: at 400 ms an immediate answer timed out under the full suite.)
        sim.faults.latencyMs = 6_000
        let slow = try await host.run("n", "customers")
        #expect(slow.status == .failed, "\(slow.status)")
        #expect(slow.error?.contains("GetAllCustomers") == true, "\(slow.error ?? "")")
        sim.faults = .init()

        // The k-th request fails mid-run: the run is incomplete, the day is not reported complete.
        let other = Self.day(minus: 3)
        sim.failRequest(op: "GetCdr", in: 2)  // the second account's day fails (a retried request cannot move it elsewhere)
        let partial = try await host.run("n", "cdrs", params: ["date": .string(other)])
        #expect(partial.status == .incomplete, "\(partial.status) \(partial.error ?? "")")
        #expect(partial.message?.contains("incomplete day(s): \(other)") == true, "\(partial.message ?? "")")
        // The run keeps the plugin's log lines: the failed account-day is named there too.
        #expect(partial.log?.contains("warning cdrs \(other)") == true, "\(partial.log ?? "no log")")
        let days = try await host.api("GET", "/plugins/vos/instances/n/cdr-stats?from=\(other)&to=\(other)")
        #expect(days.json?["days"]?.arrayValue?.first?["complete"] == false, "\(days.body)")
        // A clean re-run completes it, without duplicates.
        let fixed = try await host.run("n", "cdrs", params: ["date": .string(other)])
        #expect(fixed.status == .succeeded)
        #expect(try await host.records("n", "cdrs").filter { $0.json["date"]?.stringValue == other }.count == 40)
        let days2 = try await host.api("GET", "/plugins/vos/instances/n/cdr-stats?from=\(other)&to=\(other)")
        #expect(days2.json?["days"]?.arrayValue?.first?["complete"] == true)

        // Plugin routes: unknown route 404, no token 401, another plugin's instance 404.
        #expect(try await host.api("GET", "/plugins/vos/instances/n/nope").status == 404)
        #expect(try await request("GET", host.base + "/plugins/vos/instances/n/cdr-stats").status == 401)
        #expect(try await host.api("GET", "/plugins/guanke/instances/n/grade-stats").status == 404)
        #expect(try await host.api("POST", "/plugins/vos/instances/n/cdr-stats").status == 405)
        let badDate = try await host.api("GET", "/plugins/vos/instances/n/cdr-stats?from=2025-13-01")
        #expect(badDate.status == 400, "\(badDate.body)")
        await host.stop()
    }
}
