import Foundation
import Logging
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// Three `synchost serve` processes on one PostgreSQL database: every due fire becomes one run and every run is
/// executed once, by one of them; one of them killed mid-run leaves its run to a survivor within the lease.
@Suite("Scale-out: three host processes, one PostgreSQL", .serialized, .needs(.postgres), .needs(.endToEnd))
struct ScaleOutTests {
    /// Its own database (scripts/postgres.sh creates it beside the test database).
    static func postgresURL() throws -> String {
        try Backend.postgresURL().replacingOccurrences(of: "/synchost_test", with: "/synchost_scaleout")
    }

    static let lease = 4

    @Test func everyDueRunIsExecutedExactlyOnceAndAKilledHostsRunIsRecoveredWithinItsLease() async throws {
        let url = try Self.postgresURL()
        let (dir, plugins) = try await directoryWithTinyPlugin("scaleout")
        defer { try? FileManager.default.removeItem(at: dir) }

        // The instance and its work, written by an operator before the hosts look — on PostgreSQL, proven.
        let store = try await StoreFactory.open(url, logger: Logger(label: "test"), secretKeys: .ring(testSecretKeys))
        try #require(store.backend == "postgresql")
        let version = try await store.executor.read { try await $0.one("SELECT version()")?.text(0) ?? "" }
        try #require(version.hasPrefix("PostgreSQL"), "\(version)")
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

        // Three hosts, racing for the same queue.
        var hosts: [Process] = []
        var logs: [URL] = []
        for n in 0..<3 {
            let p = Process()
            p.executableURL = Build.synchost
            p.arguments = ["serve", "--plugins", plugins.path, "--database", url, "--port", "0", "--admin-token", "t",
                           "--data-dir", dir.appendingPathComponent("host\(n)").path, "--scheduler-max-idle", "1",
                           "--scheduler-lease", String(Self.lease), "--log-level", "info"]
            let log = dir.appendingPathComponent("host\(n).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            p.standardError = try FileHandle(forWritingTo: log)
            p.standardOutput = FileHandle.nullDevice
            // Replicas sharing the database share its secret key.
            p.environment = ProcessInfo.processInfo.environment.merging([SecretKeySource.environmentKey: testSecretKeyText]) { $1 }
            try p.run()
            hosts.append(p)
            logs.append(log)
        }
        defer { for h in hosts where h.isRunning { h.terminate() } }

        var q = RunQuery()
        q.instance = instance
        q.limit = 500
        let runs = try await Self.waitFor(store, q, "60 runs ended") { $0.count >= 60 && $0.allSatisfy(\.status.isFinal) }
        #expect(runs.count == 60, "every fire became exactly one run")
        #expect(runs.allSatisfy { $0.status == .succeeded }, "\(runs.map(\.status.rawValue))")
        let perSchedule = Dictionary(grouping: runs.compactMap(\.scheduleID), by: { $0 })
        #expect(Set(perSchedule.keys) == Set(scheduleIDs))
        #expect(perSchedule.values.allSatisfy { $0.count == 1 })
        #expect(Set(manual).isSubset(of: Set(runs.map(\.id))))

        // A long run; whichever host claims it is killed while it runs.
        var long = RunRecord(instance: instance, job: "slow", trigger: "manual", params: ["ms": 3000])
        long.overlap = .allow
        long.maxAttempts = 2
        long.retryBackoffSeconds = 1
        try await store.insertRun(long)
        let claimed = try await Self.waitFor(store, q, "the long run to start") { $0.contains { $0.id == long.id && $0.status == .running } }
        let owner = try #require(claimed.first { $0.id == long.id }?.leaseOwner)
        let ownerPID = try #require(Int32(owner.split(separator: "-").dropLast().last ?? ""), "owner \(owner)")
        let victim = try #require(hosts.firstIndex { $0.processIdentifier == ownerPID }, "no host has pid \(ownerPID)")
        kill(ownerPID, SIGKILL)
        let killedAt = Date()
        await hosts[victim].exited()

        // A survivor marks it interrupted once its lease has expired, and runs the retry.
        let recovered = try await Self.waitFor(store, q, "the killed host's run to be recovered") { runs in
            runs.contains { $0.id == long.id && $0.status == .interrupted } && runs.contains { $0.message?.contains(long.id) == true && $0.status.isFinal }
        }
        let interrupted = try #require(recovered.first { $0.id == long.id })
        let recoveryTime = try #require(interrupted.finishedAt).timeIntervalSince(killedAt)
        print("scale-out: run \(long.id) of the killed host recovered \(String(format: "%.2f", recoveryTime)) s after SIGKILL (lease \(Self.lease) s)")
        #expect(recoveryTime <= Double(Self.lease) + 2, "recovered after \(recoveryTime) s with a \(Self.lease) s lease")
        let retry = try #require(recovered.first { $0.message?.contains(long.id) == true })
        #expect(retry.status == .succeeded && retry.leaseOwner != owner, "\(retry.status) by \(retry.leaseOwner ?? "?")")

        // The survivors take over every new schedule.
        var later: [String] = []
        for _ in 0..<10 {
            var s = ScheduleRecord(instance: instance, job: "slow", params: ["ms": 10], cron: "0 0 1 1 *", overlap: .allow)
            s.nextFireAt = Date().addingTimeInterval(-1)
            s.nextRunAt = s.nextFireAt
            try await store.insertSchedule(s)
            later.append(s.id)
        }
        let afterKill = try await Self.waitFor(store, q, "10 runs after the kill") { runs in
            let mine = runs.filter { $0.scheduleID.map(later.contains) ?? false }
            return mine.count == 10 && mine.allSatisfy(\.status.isFinal)
        }.filter { $0.scheduleID.map(later.contains) ?? false }
        for h in hosts where h.isRunning { h.terminate(); await h.exited() }
        #expect(afterKill.allSatisfy { $0.status == .succeeded }, "\(afterKill.map(\.status.rawValue))")
        #expect(!afterKill.contains { $0.leaseOwner == owner }, "the killed host ran nothing more")

        // Executed once: each run's completion is logged by exactly one host, and the hosts shared the work.
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
        #expect(finishedBy.count == 71, "60 before the kill, the retry of the killed run, 10 after")
        #expect(finishedBy.values.allSatisfy { $0 == 1 })
        #expect(perHost.filter { $0 > 0 }.count >= 2, "the hosts shared the work: \(perHost)")
    }

    /// Polls the runs until `done` holds (an event awaited, with a deadline), returning them.
    static func waitFor(_ store: any HostDatabase, _ q: RunQuery, _ what: String, within seconds: TimeInterval = 60,
                        _ done: ([RunRecord]) -> Bool) async throws -> [RunRecord] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let runs = try await store.runs(q)
            if done(runs) { return runs }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HostError.unavailable("waited \(Int(seconds)) s for \(what)")
    }
}
