import Foundation
import Logging
import PluginAPI
import Testing

@testable import Host

/// Two `synchost serve` processes on one PostgreSQL database: every due fire becomes one run and every run is
/// executed once, by one of them.
@Suite("Scale-out: two host processes, one PostgreSQL", .serialized)
struct ScaleOutTests {
    /// Its own database (scripts/postgres.sh creates it beside the test database).
    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["SYNCHOST_TEST_POSTGRES_URL"].map { $0.replacingOccurrences(of: "/synchost_test", with: "/synchost_scaleout") }
    }

    @Test(.enabled(if: postgresURL != nil, "needs SYNCHOST_TEST_POSTGRES_URL (make test starts a server)"))
    func everyDueRunIsExecutedExactlyOnceAcrossTwoHosts() async throws {
        let url = try #require(Self.postgresURL)
        let dir = try temporaryDirectory("scaleout")
        defer { try? FileManager.default.removeItem(at: dir) }
        let plugins = dir.appendingPathComponent("plugins")
        try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
        _ = try await compileCPlugin(into: plugins, fileName: "tiny.so")

        // The instance and its work, written by an operator before the hosts look.
        let store = try await StoreFactory.open(url, logger: Logger(label: "test"))
        let instance = freshInstance()
        try await store.createInstance(InstanceRecord(id: instance, plugin: "tiny_c", config: [:]), schedules: [])
        let now = Date()
        var scheduleIDs: [String] = []
        for n in 0..<30 {
            var s = ScheduleRecord(instance: instance, job: "slow", params: ["ms": 50], cron: "0 0 1 1 *", overlap: .allow)
            s.nextFireAt = now.addingTimeInterval(-Double(n % 5))
            s.nextRunAt = s.nextFireAt
            try await store.insertSchedule(s)
            scheduleIDs.append(s.id)
        }
        var manual: [String] = []
        for _ in 0..<30 {
            var r = RunRecord(instance: instance, job: "slow", trigger: "manual", params: ["ms": 50])
            r.overlap = .allow
            try await store.insertRun(r)
            manual.append(r.id)
        }

        // Two hosts, racing for the same queue.
        var hosts: [Process] = []
        var logs: [URL] = []
        for n in 0..<2 {
            let p = Process()
            p.executableURL = Build.synchost
            p.arguments = ["serve", "--plugins", plugins.path, "--database", url, "--port", "0", "--admin-token", "t",
                           "--data-dir", dir.appendingPathComponent("host\(n)").path, "--scheduler-max-idle", "1", "--log-level", "info"]
            let log = dir.appendingPathComponent("host\(n).log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            p.standardError = try FileHandle(forWritingTo: log)
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            hosts.append(p)
            logs.append(log)
        }
        defer { for h in hosts where h.isRunning { h.terminate() } }

        var q = RunQuery()
        q.instance = instance
        q.limit = 500
        let deadline = Date().addingTimeInterval(60)
        var runs: [RunRecord] = []
        while Date() < deadline {
            runs = try await store.runs(q)
            if runs.count >= 60 && runs.allSatisfy(\.status.isFinal) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        // One host dies without warning: the survivor takes over every schedule.
        kill(hosts[0].processIdentifier, SIGKILL)
        hosts[0].waitUntilExit()
        var later: [String] = []
        for _ in 0..<10 {
            var s = ScheduleRecord(instance: instance, job: "slow", params: ["ms": 10], cron: "0 0 1 1 *", overlap: .allow)
            s.nextFireAt = Date().addingTimeInterval(-1)
            s.nextRunAt = s.nextFireAt
            try await store.insertSchedule(s)
            later.append(s.id)
        }
        var afterKill: [RunRecord] = []
        let deadline2 = Date().addingTimeInterval(60)
        while Date() < deadline2 {
            afterKill = try await store.runs(q).filter { $0.scheduleID.map(later.contains) ?? false }
            if afterKill.count == 10 && afterKill.allSatisfy(\.status.isFinal) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        for h in hosts where h.isRunning { h.terminate(); h.waitUntilExit() }
        #expect(afterKill.count == 10 && afterKill.allSatisfy { $0.status == .succeeded }, "\(afterKill.map(\.status.rawValue))")
        #expect(Set(afterKill.compactMap(\.leaseOwner)).count == 1, "one host left")

        #expect(runs.count == 60, "every fire became exactly one run")
        #expect(runs.allSatisfy { $0.status == .succeeded }, "\(runs.map(\.status.rawValue))")
        let perSchedule = Dictionary(grouping: runs.compactMap(\.scheduleID), by: { $0 })
        #expect(Set(perSchedule.keys) == Set(scheduleIDs))
        #expect(perSchedule.values.allSatisfy { $0.count == 1 })
        #expect(Set(manual).isSubset(of: Set(runs.map(\.id))))

        // Executed once: each run's completion is logged by exactly one host, and both hosts took part.
        var finishedBy: [String: Int] = [:]
        var perHost: [Int] = []
        for log in logs {
            let text = try String(contentsOf: log, encoding: .utf8)
            let ids = text.split(separator: "\n").filter { $0.contains(" \(instance)/slow succeeded") }.compactMap { line -> String? in
                guard let r = line.range(of: "run ") else { return nil }
                return line[r.upperBound...].split(separator: " ").first.map(String.init)
            }
            perHost.append(ids.count)
            for id in ids { finishedBy[id, default: 0] += 1 }
        }
        #expect(finishedBy.count == 70, "60 before the kill, 10 after")
        #expect(finishedBy.values.allSatisfy { $0 == 1 })
        #expect(perHost.allSatisfy { $0 > 0 }, "both hosts ran some: \(perHost)")
        #expect(Set(runs.compactMap(\.leaseOwner)).count == 2)
        #expect(Set(afterKill.compactMap(\.leaseOwner)).isSubset(of: Set(runs.compactMap(\.leaseOwner))))
    }
}
