import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// #20: a plugin isolated in a worker process (`--isolate`) that segfaults, aborts, leaks memory without bound
/// or hangs takes down only itself: the run is marked `crashed` naming the signal and retried by its policy, the
/// worker restarts, the admin API and the other plugins go on; after too many crashes the plugin is failing.
/// (In-process, the documented behaviour — the host dies and the run is recovered as interrupted — is
/// PluginCrashTests'.) The in-tree plugins' own suites run in both modes (`make test`, SYNCHOST_TEST_ISOLATION).
@Suite("Process isolation", .serialized)
struct ProcessIsolationTests {
    /// The in-tree plugins, the C fixture built as "crashy" (with its crash jobs) and as "tiny_c" (in process).
    static func host(maxCrashes: Int = 20) async throws -> TestHost {
        let dir = try pluginDirectoryWithInTreePlugins()
        _ = try await compileCPlugin(into: dir, fileName: "libcrashy.so", defines: ["CRASHY", #"PLUGIN_NAME="crashy""#])
        _ = try await compileCPlugin(into: dir, fileName: "libtiny.so")
        let policy = IsolationPolicy(plugins: ["crashy"], workerExecutable: Build.synchost, memoryLimitMB: 512, heartbeat: .milliseconds(200),
                                     heartbeatTimeout: .seconds(4), maxCrashes: maxCrashes, restartBackoff: .milliseconds(100))
        let host = try await TestHost(reusing: dir, isolation: policy)
        #expect(try await host.api("POST", "/instances", #"{"id": "c", "plugin": "crashy"}"#).status == 201)
        #expect(try await host.api("POST", "/instances", #"{"id": "t", "plugin": "tiny_c"}"#).status == 201)
        return host
    }

    static func plugin(_ host: TestHost, _ name: String) async throws -> JSONValue {
        let list = try #require(try await host.api("GET", "/plugins").json?.arrayValue)
        return try #require(list.first { $0["name"]?.stringValue == name })
    }

    @Test func aWorkerThatSegfaultsAbortsLeaksOrHangsTakesDownOnlyItselfAndComesBack() async throws {
        let host = try await Self.host()
        defer { Task { await host.stop() } }
        let crashy = try await Self.plugin(host, "crashy")
        #expect(crashy["isolation"] == "process" && crashy["worker"]?["state"] == "running", "\(crashy)")
        let firstPid = try #require(crashy["worker"]?["pid"]?.intValue)
        #expect(try await Self.plugin(host, "tiny_c")["isolation"] == "in-process")

        // Service calls cross the socket: a sync through the worker writes its records.
        #expect(try await host.run("c", "sync").status == .succeeded)
        #expect(try await host.records("c", "greetings").count == 2)

        for (job, says) in [("segfault", "signal 11 (SIGSEGV)"), ("abort", "signal 6 (SIGABRT)"), ("leak", "crashed"), ("freeze", "no heartbeat answer")] {
            let run = try await host.run("c", job, timeout: .seconds(60))
            #expect(run.status == .crashed, "\(job): \(run.status) \(run.error ?? "")")
            #expect(run.error?.contains(says) == true && run.error?.contains("crashy") == true, "\(job): \(run.error ?? "")")
            // The host serves, the other plugin runs, and the crashed one runs again in a new worker.
            #expect(try await host.api("GET", "/plugins").status == 200)
            #expect(try await request("GET", "http://127.0.0.1:\(host.server.port)/healthz").status == 200)
            #expect(try await host.run("t", "sync").status == .succeeded, "\(job): the in-process plugin after the crash")
            let again = try await host.run("c", "sync", params: ["with_c": true])
            #expect(again.status == .succeeded, "\(job): \(again.error ?? "")")
        }
        #expect(try await host.records("c", "greetings").count == 3)
        let after = try await Self.plugin(host, "crashy")
        #expect(after["worker"]?["restarts"] == 4 && after["worker"]?["state"] == "running", "\(after)")
        #expect(after["worker"]?["pid"]?.intValue != firstPid)
        #expect(after["worker"]?["last_crash"]?.stringValue?.contains("no heartbeat") == true)
    }

    @Test func aCrashedRunIsRetriedByItsScheduleAndTooManyCrashesMakeThePluginFailing() async throws {
        let host = try await Self.host(maxCrashes: 3)
        defer { Task { await host.stop() } }
        // A schedule with two attempts: the crash is retried (and crashes again).
        let created = try await host.api("POST", "/schedules", #"{"instance": "c", "job": "segfault", "cron": "* * * * *", "max_attempts": 2, "retry_backoff_seconds": 1}"#)
        let schedule = try #require(created.json?["id"]?.stringValue, "\(created.body)")
        host.clock.advance(by: 61)
        var q = RunQuery()
        q.instance = "c"
        q.job = "segfault"
        var runs: [RunRecord] = []
        for _ in 0..<600 {
            runs = try await host.store.runs(q)
            if runs.count >= 2 && runs.allSatisfy(\.status.isFinal) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await host.api("DELETE", "/schedules/\(schedule)").status == 204)
        #expect(runs.count == 2 && runs.allSatisfy { $0.status == .crashed }, "\(runs.map { "\($0.trigger) \($0.status) \($0.error ?? "")" })")
        #expect(runs.contains { $0.trigger == "retry" && $0.message?.contains("retry 2/2") == true })

        // A third crash within the window: not restarted, failing with the reason; calls fail at once.
        let third = try await host.run("c", "abort")
        #expect(third.status == .crashed)
        var view = try await Self.plugin(host, "crashy")
        for _ in 0..<100 where view["status"] != "failing" {
            try await Task.sleep(for: .milliseconds(50))
            view = try await Self.plugin(host, "crashy")
        }
        #expect(view["status"] == "failing" && view["reason"]?.stringValue?.contains("crashed 3 times") == true, "\(view)")
        let refused = try await host.run("c", "sync")
        #expect(refused.status == .failed && refused.error?.contains("crashy is failing") == true, "\(refused.error ?? "")")
        let health = try await request("GET", "http://127.0.0.1:\(host.server.port)/healthz")
        #expect(health.status == 200 && health.json?["status"] == "degraded" && health.json?["plugins"]?["crashy"] == "failing", "\(health.body)")
        // The rest of the host is untouched.
        #expect(try await host.run("t", "sync").status == .succeeded)
        let cli = try await runProcess(Build.synchost.path, ["plugins", "list", "--plugins", host.directory.path, "--isolate", "crashy"])
        #expect(cli.stdout.contains("process (worker running"), "\(cli.stdout)\(cli.stderr)")
    }

    /// An operator moves a running plugin into a worker process and back through the API; the setting is stored
    /// (audited) and a restarted host starts the plugin the way it was left.
    @Test func anOperatorSwitchesAPluginsModeThroughTheAPIAndItStaysSoAfterARestart() async throws {
        let dir = try pluginDirectoryWithInTreePlugins()
        _ = try await compileCPlugin(into: dir, fileName: "libtiny.so")
        let policy = IsolationPolicy(workerExecutable: Build.synchost)
        let host = try await TestHost(reusing: dir, isolation: policy)
        #expect(try await host.api("POST", "/instances", #"{"id": "t", "plugin": "tiny_c"}"#).status == 201)
        #expect(try await Self.plugin(host, "tiny_c")["isolation"] == "in-process")

        let switched = try await host.api("PATCH", "/plugins/tiny_c", #"{"isolation": "process"}"#)
        #expect(switched.status == 200 && switched.json?["isolation"] == "process" && switched.json?["worker"]?["pid"]?.intValue != nil, "\(switched.body)")
        #expect(try await host.run("t", "sync").status == .succeeded)
        #expect(try await host.records("t", "greetings").count == 2)
        #expect(try await host.api("PATCH", "/plugins/tiny_c", #"{"isolation": "sometimes"}"#).status == 400)
        #expect(try await host.api("PATCH", "/plugins/tiny_c", #"{"isolation": "process", "colour": 1}"#).status == 400)
        #expect(try await host.api("PATCH", "/plugins/ghost", #"{"isolation": "process"}"#).status == 404)
        let audit = try await host.api("GET", "/audit?target=tiny_c")
        #expect(audit.json?["entries"]?.arrayValue?.contains { $0["action"] == "plugin.isolation" } == true, "\(audit.body)")
        await host.stop(keepFiles: true)

        // Restarted with no --isolate: the stored setting puts tiny_c in a worker again.
        let again = try await TestHost(reusing: dir, isolation: policy)
        defer { Task { await again.stop() } }
        let view = try await Self.plugin(again, "tiny_c")
        #expect(view["isolation"] == "process" && view["worker"]?["state"] == "running", "\(view)")
        #expect(try await again.run("t", "sync", params: ["with_c": true]).status == .succeeded)
        let back = try await again.api("PATCH", "/plugins/tiny_c", #"{"isolation": "in-process"}"#)
        #expect(back.status == 200 && back.json?["isolation"] == "in-process" && back.json?["worker"] == nil, "\(back.body)")
        // In process again; a plain full sync marks "c" deleted: the plugin's own logic ran, here.
        #expect(try await again.run("t", "sync").status == .succeeded)
        #expect(try await again.records("t", "greetings").count == 2)
    }

    /// The frames carry the ABI's bytes exactly, whatever they hold.
    @Test func framesRoundTrip() throws {
        let frames: [WorkerFrame] = [
            .invoke(call: 7, session: 1 << 40, op: "run", body: Array("{\"job\":\"sync\"}".utf8)),
            .invokeDone(call: 7, status: -3, body: [0, 255, 10]),
            .cancel(session: 9), .serviceCall(call: 1, service: 2, session: 3, op: "upsert", body: Array(repeating: 0xAB, count: 70_000)),
            .serviceDone(call: 1, status: 0, body: []), .log(session: 0, level: 4, text: Array("日志".utf8)), .ping(5), .pong(5), .shutdown,
            .hello(facts: nil, failure: "dlopen failed: x"),
        ]
        for f in frames {
            let bytes = f.encoded
            let length = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
            #expect(length == bytes.count - 4)
            #expect(try WorkerFrame.decode(Array(bytes[4...])) == f)
        }
        #expect(throws: WorkerFrame.Malformed.self) { try WorkerFrame.decode([99]) }
        #expect(throws: WorkerFrame.Malformed.self) { try WorkerFrame.decode([2, 1, 2]) }
    }
}
