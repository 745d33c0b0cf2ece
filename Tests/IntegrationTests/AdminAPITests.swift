import AsyncHTTPClient
import Foundation
import NIOCore
import PluginAPI
import Testing

@testable import Host
@testable import TestKit


@Suite("Admin API: health, plugins, rescan, auth")
struct AdminAPITests {
    @Test func healthIsOpenAndEverythingElseNeedsTheToken() async throws {
        let dir = try pluginDirectoryWithInTreePlugins()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "junk".write(to: dir.appendingPathComponent("junk.so"), atomically: true, encoding: .utf8)
        let kernel = try await makeKernel(dir)
        let server = try await startServer(AdminServer(kernel: kernel, token: "s3cret-token"))
        defer { server.task.cancel() }
        let base = "http://127.0.0.1:\(server.port)"

        let health = try await request("GET", "\(base)/healthz")
        #expect(health.status == 200)
        #expect(health.json?["loaded"] == 5)
        #expect(health.json?["failed"] == 1)
        #expect(health.json?["plugins"]?["vos"] == "loaded")

        for token in [nil, "wrong", "s3cret-tokenX", "s3cret-toke"] {
            let r = try await request("GET", "\(base)/api/v1/plugins", token: token)
            #expect(r.status == 401)
            #expect(r.json?["error"]?["code"] == "unauthorized")
            #expect(!r.body.contains("s3cret"))
        }

        let list = try await request("GET", "\(base)/api/v1/plugins", token: "s3cret-token")
        #expect(list.status == 200)
        let views = try WireJSON.decode([PluginView].self, from: Array(list.body.utf8))
        #expect(views.count == 6)
        let junk = try #require(views.first { $0.name == "junk.so" })
        #expect(junk.status == "failed")
        #expect(junk.reason?.contains("dlopen failed") == true)

        let one = try await request("GET", "\(base)/api/v1/plugins/wecom", token: "s3cret-token")
        #expect(one.status == 200)
        #expect(one.json?["jobs"]?.arrayValue?.count == 3)
        #expect(one.json?["abi"] == .string(HostInfo.abi))

        let missing = try await request("GET", "\(base)/api/v1/plugins/nope", token: "s3cret-token")
        #expect(missing.status == 404)
        #expect(missing.json?["error"]?["message"] == "no plugin named \"nope\"")

        _ = try await compileCPlugin(into: dir, fileName: "tiny.so")
        let rescan = try await request("POST", "\(base)/api/v1/plugins/rescan", token: "s3cret-token")
        #expect(rescan.status == 200)
        #expect(rescan.json?["added"]?.arrayValue?.first?["name"] == "tiny_c")
        let after = try await request("GET", "\(base)/api/v1/plugins/tiny_c", token: "s3cret-token")
        #expect(after.json?["status"] == "loaded")
    }
}

@Suite("Admin API: instances, runs and data over HTTP")
struct AdminDataAPITests {
    @Test func createAnInstanceRunAJobAndReadItsDataWithSourceAndLastSynced() async throws {
        let dir = try temporaryDirectory()
        _ = try await compileCPlugin(into: dir, fileName: "tiny.so")
        let store = try await Backend.sqlite.open()
        let kernel = Kernel(pluginDirectory: dir, logger: capturingLogger(CapturedLog()), store: store, schedulerMaxIdle: .seconds(1))
        try await kernel.registry.scan()
        try await kernel.scheduler!.start()
        let server = try await startServer(AdminServer(kernel: kernel, token: "t"))
        defer { server.task.cancel() }
        let base = "http://127.0.0.1:\(server.port)/api/v1"

        let unknownPlugin = try await request("POST", "\(base)/instances", token: "t", body: #"{"id": "x1", "plugin": "nope"}"#)
        #expect(unknownPlugin.status == 400)
        let badConfig = try await request("POST", "\(base)/instances", token: "t", body: #"{"id": "x1", "plugin": "tiny_c", "config": {"greting": "hi"}}"#)
        #expect(badConfig.status == 400)
        #expect(badConfig.json?["error"]?["message"]?.stringValue?.contains("unknown key \"greting\"") == true)
        let badJSON = try await request("POST", "\(base)/instances", token: "t", body: #"{"id": "#)
        #expect(badJSON.status == 400)
        let unknownField = try await request("POST", "\(base)/instances", token: "t", body: #"{"id": "x1", "plugin": "tiny_c", "colour": 1}"#)
        #expect(unknownField.status == 400)
        let badID = try await request("POST", "\(base)/instances", token: "t", body: #"{"id": "../etc", "plugin": "tiny_c"}"#)
        #expect(badID.status == 400)

        let created = try await request("POST", "\(base)/instances", token: "t", body: #"{"id": "c1", "plugin": "tiny_c", "config": {"password": "hunter2-secret"}}"#)
        #expect(created.status == 201, "\(created.body)")
        #expect(created.json?["config"]?["password"] == "***")
        #expect(!created.body.contains("hunter2"))
        #expect(try await request("POST", "\(base)/instances", token: "t", body: #"{"id": "c1", "plugin": "tiny_c"}"#).status == 409)

        let badCron = try await request("POST", "\(base)/schedules", token: "t", body: #"{"instance": "c1", "job": "sync", "cron": "*/0 * * * *"}"#)
        #expect(badCron.status == 400)
        #expect(badCron.json?["error"]?["message"] == "cron: minute field: step must be at least 1, got 0")
        let badJob = try await request("POST", "\(base)/schedules", token: "t", body: #"{"instance": "c1", "job": "nope", "cron": "@daily"}"#)
        #expect(badJob.status == 400)

        let accepted = try await request("POST", "\(base)/instances/c1/jobs/sync/run", token: "t", body: #"{"params": {"with_c": true}}"#)
        #expect(accepted.status == 202)
        let runID = try #require(accepted.json?["run_id"]?.stringValue)
        var run: HTTPResult?
        for _ in 0..<100 {
            run = try await request("GET", "\(base)/runs/\(runID)", token: "t")
            if run?.json?["status"] == "succeeded" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(run?.json?["status"] == "succeeded")
        #expect(run?.json?["counts"]?["inserted"] == 3)
        #expect(try await request("POST", "\(base)/instances/c1/jobs/nope/run", token: "t").status == 400)
        #expect(try await request("POST", "\(base)/instances/zz/jobs/sync/run", token: "t").status == 404)

        let collections = try await request("GET", "\(base)/instances/c1/collections", token: "t")
        #expect(collections.json?["collections"]?.arrayValue?.first { $0["name"] == "greetings" }?["records"] == 3)
        let list = try await request("GET", "\(base)/instances/c1/collections/greetings?n=2", token: "t")
        #expect(list.json?["records"]?.arrayValue?.map { $0["key"] } == ["b"])
        #expect(list.json?["source"] == "cache")
        #expect(list.json?["last_synced_at"]?.stringValue != nil)
        let one = try await request("GET", "\(base)/instances/c1/collections/greetings/a", token: "t")
        #expect(one.json?["record"]?["data"] == ["id": "a", "n": 1])
        #expect(one.json?["source"] == "cache")
        let live = try await request("GET", "\(base)/instances/c1/collections/greetings/live1?cache=live", token: "t")
        #expect(live.json?["source"] == "live")
        let stale = try await request("GET", "\(base)/instances/c1/collections/greetings/a?cache=stale-ok", token: "t")
        #expect(stale.status == 200)
        #expect(try await request("GET", "\(base)/instances/c1/collections/greetings/zz", token: "t").status == 404)
        #expect(try await request("GET", "\(base)/instances/c1/collections/greetings/a?cache=maybe", token: "t").status == 400)
        #expect(try await request("GET", "\(base)/instances/c1/collections/nope", token: "t").status == 404)
        #expect(try await request("GET", "\(base)/instances/c1/collections/greetings?limit=0", token: "t").status == 400)
        #expect(try await request("GET", "\(base)/instances/c1/collections/greetings?x%27%3B--=1", token: "t").status == 400)

        let metricsBase = base.replacingOccurrences(of: "/api/v1", with: "")
        #expect(try await request("GET", "\(metricsBase)/metrics").status == 401)
        let metrics = try await request("GET", "\(metricsBase)/metrics", token: "t")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("synchost_runs_total{"))
        #expect(metrics.body.contains("status=\"succeeded\""))
        #expect(metrics.body.contains("synchost_records_written_total{"))
        #expect(metrics.body.contains("synchost_run_duration_seconds"))

        // job=sync: the instance's default "greet" schedule (*/5) may fire meanwhile.
        let runs = try await request("GET", "\(base)/runs?instance=c1&job=sync&status=succeeded", token: "t")
        #expect(runs.json?["runs"]?.arrayValue?.count == 1)
        #expect(try await request("GET", "\(base)/runs?status=weird", token: "t").status == 400)
        #expect(try await request("GET", "\(base)/runs?since=yesterday", token: "t").status == 400)

        #expect(try await request("DELETE", "\(base)/instances/c1?purge=true", token: "t").status == 204)
        #expect(try await request("GET", "\(base)/instances/c1", token: "t").status == 404)
        #expect(try await store.record(instance: "c1", collection: "greetings", key: "a") == nil)
        await kernel.scheduler!.stop()
    }
}

/// `/healthz` and `/readyz` say what works: the database answers, the scheduler ticks, every plugin loaded.
@Suite("Health that tells the truth")
struct HealthTests {
    @Test func aRunningHostIsOkAndReadyAndSaysWhatItChecked() async throws {
        let host = try await TestHost()
        let health = try await request("GET", host.base.replacingOccurrences(of: "/api/v1", with: "") + "/healthz")
        #expect(health.status == 200 && health.json?["status"] == "ok" && health.json?["ready"] == true, "\(health.body)")
        #expect(health.json?["database"]?["ok"] == true && health.json?["database"]?["latency_ms"]?.doubleValue != nil)
        #expect(health.json?["scheduler"]?["running"] == true && (health.json?["scheduler"]?["last_tick_age_seconds"]?.doubleValue ?? 99) < 30)
        #expect(try await request("GET", host.base.replacingOccurrences(of: "/api/v1", with: "") + "/readyz").status == 200)
    }

    @Test func anUnreachableDatabaseIs503AndAFailedPluginIsDegraded() async throws {
        let dir = try pluginDirectoryWithInTreePlugins()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "junk".write(to: dir.appendingPathComponent("junk.so"), atomically: true, encoding: .utf8)
        let kernel = try await makeKernel(dir)

        let degraded = await HealthCheck(kernel: kernel, ping: {}).report()
        #expect(degraded.status == "degraded" && degraded.ready && degraded.failed_plugins.map(\.path).contains { $0.hasSuffix("junk.so") })
        #expect(degraded.failed_plugins.first?.reason.contains("dlopen failed") == true)

        let refused = await HealthCheck(kernel: kernel, ping: { throw HostError.unavailable("connection refused") }).report()
        #expect(refused.status == "down" && !refused.ready && refused.database?.error?.contains("connection refused") == true)

        // A database that hangs counts as unreachable after the bound.
        let hung = await HealthCheck(kernel: kernel, ping: { try await Task.sleep(for: .seconds(60)) }, databaseBound: .milliseconds(100)).report()
        #expect(hung.status == "down" && hung.database?.error?.contains("no answer within") == true)

        let server = try await startServer(AdminServer(kernel: kernel, token: "t"))
        defer { server.task.cancel() }
        let health = try await request("GET", "http://127.0.0.1:\(server.port)/healthz")
        #expect(health.status == 200 && health.json?["status"] == "degraded" && health.json?["failed"] == 1)
    }
}
