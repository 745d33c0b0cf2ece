import Foundation
import PluginAPI
import Testing
import VOSSimulator
import WeComSimulator

@testable import Host
@testable import TestKit

@Suite("Crash: SIGKILL of the host mid-sync, real plugins", .serialized, .needs(.endToEnd))
struct PluginCrashTests {
    @Test func killedVOSAndWeComSyncsAreMarkedInterruptedAndTheNextRunsEqualTheUpstream() async throws {
        var vosData = VOSSimulator.Data()
        // 12 accounts × (400 ms + 200 ms pacing): the CDR day takes ~7 s; it starts once the contact sync (20,000
        // contacts in batches of 20) is writing, and the host is killed when both have written part of their data.
        vosData.customers = 12
        vosData.cdrsPerDay = 60_000
        let vos = VOSSimulator(vosData)
        try await vos.start()
        defer { vos.stop() }
        vos.faults.latencyMs = 400
        vos.faults.latencyOps = ["GetCdr"]
        var wecomData = WeComSimulator.Data()
        wecomData.contacts = 20_000
        wecomData.staff = 60
        let wecom = WeComSimulator(wecomData)
        try await wecom.start()
        defer { wecom.stop() }

        let dir = try temporaryDirectory("plugin-crash")
        defer { try? FileManager.default.removeItem(at: dir) }
        let host = try await ServeProcess(dataDir: dir, token: "crash-token")
        #expect(try await host.api("POST", "/instances", #"{"id": "node", "plugin": "vos", "config": {"base_url": "\#(vos.server.baseURL)", "backfill_days": 0, "cdr_pacing_ms": 200}}"#).status == 201)
        #expect(try await host.api("POST", "/instances", #"{"id": "corp", "plugin": "wecom", "config": {"corp_id": "\#(wecom.data.corpID)", "corp_secret": "\#(wecom.data.corpSecret)", "base_url": "\#(wecom.server.baseURL)", "batch_size": 20}}"#).status == 201)
        let schedulesBefore = try #require(try await host.api("GET", "/schedules").json?.arrayValue).count
        let day = "2026-11-01"
        // The contacts first (the slower to write its first page on a loaded machine), the CDRs once contacts are
        // arriving; kill without warning once both have written part of their data.
        let contactRun = try #require(try await host.api("POST", "/instances/corp/jobs/contacts_incremental/run").json?["run_id"]?.stringValue)
        let db = dir.appendingPathComponent("synchost.db").path
        var partial = (cdrs: 0, contacts: 0)
        var cdrRun: String?
        for _ in 0..<1200 {
            try await Task.sleep(for: .milliseconds(50))
            guard let store = try? await openSQLite(db) else { continue }
            let cdrs = (try? await store.collections(instance: "node").first { $0.name == "cdrs" }?.records) ?? 0
            let contacts = (try? await store.collections(instance: "corp").first { $0.name == "contacts" }?.records) ?? 0
            partial = (cdrs, contacts)
            if contacts > 0 && cdrRun == nil {
                cdrRun = try #require(try await host.api("POST", "/instances/node/jobs/cdrs/run", #"{"params": {"date": "\#(day)"}}"#).json?["run_id"]?.stringValue)
            }
            if cdrs > 0 && contacts > 0 { break }
        }
        await host.kill9()
        #expect(partial.cdrs > 0 && partial.cdrs < 60_000 && partial.contacts > 0, "the kill must land mid-run: \(partial)")

        // Restart: the runs the dead host owned are marked interrupted; schedules are intact.
        let again = try await ServeProcess(dataDir: dir, token: "crash-token")
        defer { Task { await again.stop() } }
        for id in [try #require(cdrRun), contactRun] {
            var status = ""
            for _ in 0..<100 {
                status = try await again.api("GET", "/runs/\(id)").json?["status"]?.stringValue ?? ""
                if status == "interrupted" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(status == "interrupted", "run \(id)")
        }
        #expect(try await again.api("GET", "/schedules").json?.arrayValue?.count == schedulesBefore)

        // The next runs complete; the data equals the upstream: every CDR of the day once, every contact.
        vos.faults = .init()
        let rerunCDRs = try #require(try await again.api("POST", "/instances/node/jobs/cdrs/run", #"{"params": {"date": "\#(day)"}}"#).json?["run_id"]?.stringValue)
        let rerunContacts = try #require(try await again.api("POST", "/instances/corp/jobs/contacts_incremental/run").json?["run_id"]?.stringValue)
        for id in [rerunCDRs, rerunContacts] {
            var status = ""
            for _ in 0..<1200 {
                status = try await again.api("GET", "/runs/\(id)").json?["status"]?.stringValue ?? ""
                if !["queued", "running"].contains(status) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(status == "succeeded", "run \(id): \(status)")
        }
        let store = try await openSQLite(db)
        #expect(try await store.collections(instance: "node").first { $0.name == "cdrs" }?.records == 60_000)
        var q = RecordQuery()
        q.limit = 10_000
        var contacts = Set<String>()
        repeat {
            let page = try await store.records(instance: "corp", collection: "contacts", query: q)
            contacts.formUnion(page.records.map(\.key))
            q.cursor = page.nextCursor
        } while q.cursor != nil
        #expect(contacts == wecom.expected().contacts)
        await again.stop()
    }
}
