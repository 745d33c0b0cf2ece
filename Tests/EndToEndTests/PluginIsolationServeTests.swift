import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// The same crashing `.so` under `synchost serve`, both modes. In process (the default) the plugin's segfault ends
/// the host — the documented behaviour: the supervisor (systemd) starts it again and the run is recovered as
/// interrupted. With `--isolate crashy` the same segfault ends only the worker: the run is `crashed`, the host
/// answers on, and the plugin runs again in a new worker.
@Suite("Isolation: a segfaulting plugin under serve, in-process and isolated", .serialized, .needs(.endToEnd))
struct PluginIsolationServeTests {
    @Test func inProcessTheHostDiesAndRecoversTheRunIsolatedOnlyTheWorkerDies() async throws {
        let dir = try temporaryDirectory("isolation-serve")
        defer { try? FileManager.default.removeItem(at: dir) }
        let plugins = dir.appendingPathComponent("plugins")
        try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
        _ = try await compileCPlugin(into: plugins, fileName: "libcrashy.so", defines: ["CRASHY", #"PLUGIN_NAME="crashy""#])
        let data = dir.appendingPathComponent("data")
        // The host's own crash report is not what this test is about; without it the host dies at once.
        let quiet = ["SWIFT_BACKTRACE": "enable=no"]

        let first = try await ServeProcess(dataDir: data, token: "t0k3n", plugins: plugins, environment: quiet)
        #expect(try await first.api("POST", "/instances", #"{"id": "c", "plugin": "crashy"}"#).status == 201)
        #expect(try await first.api("GET", "/plugins").json?.arrayValue?.first { $0["name"] == "crashy" }?["isolation"] == "in-process")
        // The run may crash the host before its 202 is written: the run is found after the restart either way.
        _ = try? await first.api("POST", "/instances/c/jobs/segfault/run", "{}")
        _ = await first.process.exited()
        #expect(first.process.terminationReason == .uncaughtSignal && first.process.terminationStatus == SIGSEGV)

        // What systemd does: start it again. The run it had is recovered as interrupted; this time crashy is isolated.
        let second = try await ServeProcess(dataDir: data, token: "t0k3n", plugins: plugins, arguments: ["--isolate", "crashy"], environment: quiet)
        defer { Task { await second.stop() } }
        let recovered = try #require(try await second.api("GET", "/runs?instance=c&job=segfault").json?["runs"]?.arrayValue)
        #expect(recovered.count == 1 && recovered.first?["status"] == "interrupted", "\(recovered)")
        let view = try #require(try await second.api("GET", "/plugins").json?.arrayValue?.first { $0["name"] == "crashy" })
        #expect(view["isolation"] == "process" && view["worker"]?["state"] == "running", "\(view)")

        let crashed = try await second.run("c", "segfault")
        #expect(crashed["status"] == "crashed" && crashed["error"]?.stringValue?.contains("SIGSEGV") == true, "\(crashed)")
        #expect(second.process.isRunning)
        #expect(try await second.api("GET", "/instances").status == 200)
        let synced = try await second.run("c", "sync")
        #expect(synced["status"] == "succeeded", "\(synced)")
        #expect(try await second.api("GET", "/instances/c/collections/greetings").json?["records"]?.arrayValue?.count == 2)
    }
}
