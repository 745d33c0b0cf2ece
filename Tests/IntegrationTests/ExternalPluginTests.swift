import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// A plugin built in its own package, later and separately, loads into the already-built host binary.
@Suite("A separately built plugin drops into an existing host", .serialized)
struct ExternalPluginTests {
    /// Builds Tests/Fixtures/ExternalPlugin in a scratch copy against the plugin kit (SDK/, by path) and runs
    /// its own unit tests there (the kit's fake host); returns the .so. The kit has no package dependencies, so
    /// nothing is fetched: no checkouts, no pins.
    static func buildExternalPlugin() async throws -> URL {
        let work = try temporaryDirectory("external-plugin")
        let fixture = Build.packageRoot.appendingPathComponent("Tests/Fixtures/ExternalPlugin")
        let fm = FileManager.default
        let manifest = try String(contentsOf: fixture.appendingPathComponent("Package.swift"), encoding: .utf8)
            .replacingOccurrences(of: "@SDK_PATH@", with: Build.packageRoot.appendingPathComponent("SDK").path)
        try manifest.write(to: work.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        for dir in ["Sources", "Tests"] { try fm.copyItem(at: fixture.appendingPathComponent(dir), to: work.appendingPathComponent(dir)) }
        var env = ProcessInfo.processInfo.environment
        env = env.filter { !$0.key.hasPrefix("SWIFTPM_") && !$0.key.hasPrefix("XCTest") }
        let started = ContinuousClock.now
        let r = try await runProcess("/usr/bin/env", ["swift", "build", "--package-path", work.path, "--product", "Greeter"], environment: env)
        guard r.status == 0 else { throw HostError.invalid("building the external plugin failed:\n\(r.stdout)\n\(r.stderr)") }
        print("external plugin: resolved and built against the kit in \(ContinuousClock.now - started)")
        let checkouts = (try? fm.contentsOfDirectory(atPath: work.appendingPathComponent(".build/checkouts").path)) ?? []
        #expect(checkouts.isEmpty, "the kit pulled packages: \(checkouts)")
        let resolved = (try? String(contentsOf: work.appendingPathComponent("Package.resolved"), encoding: .utf8)) ?? ""
        #expect(!resolved.contains("\"location\""), "pins: \(resolved)")
        let so = work.appendingPathComponent(".build/debug/libGreeter.so")
        guard fm.fileExists(atPath: so.path) else { throw HostError.invalid("no libGreeter.so after the build") }
        let tests = try await runProcess("/usr/bin/env", ["swift", "test", "--package-path", work.path], environment: env)
        #expect(tests.status == 0 && (tests.stdout + tests.stderr).contains("greetFetchesTheConfiguredURL() passed"), "\(tests.stdout)\n\(tests.stderr)")
        return so
    }

    @Test func listedByTheBuiltBinaryAndItsJobRunsBesideTheInTreePlugins() async throws {
        let so = try await Self.buildExternalPlugin()
        defer { try? FileManager.default.removeItem(at: so.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()) }
        let dir = try pluginDirectoryWithInTreePlugins()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: so, to: dir.appendingPathComponent("libGreeter.so"))

        // The exported surface is the entry symbol alone.
        let nm = try await runProcess("/usr/bin/env", ["nm", "-D", "--defined-only", so.path])
        let globals = nm.stdout.split(separator: "\n").filter { $0.split(separator: " ").dropFirst().first.map { $0.uppercased() == $0 } ?? false }
        #expect(globals.map { $0.split(separator: " ").last.map(String.init) } == ["synchost_plugin_entry_v1"])

        // The host binary, built before this plugin existed, lists it with the in-tree ones.
        let list = try await runProcess(Build.synchost.path, ["plugins", "list", "--json", "--plugins", dir.path])
        #expect(list.status == 0, "\(list.stderr)")
        let views = try WireJSON.decode([PluginView].self, from: Array(list.stdout.utf8))
        #expect(Set(views.map(\.name)) == ["greeter", "vos", "guanke", "wecom", "projectsync", "notify"])
        #expect(views.allSatisfy { $0.status == "loaded" })
        let greeter = try #require(views.first { $0.name == "greeter" })
        #expect(greeter.version == "2.0.0")
        #expect(greeter.jobs?.first?.schedules.first?.cron == "@hourly")

        // And its job runs in a host process that also holds the in-tree plugins (several SDK copies),
        // reaching the host's HTTP service: it fetches the admin API's /healthz.
        let log = CapturedLog()
        let kernel = try await makeKernel(dir, log: log)
        #expect(kernel.registry.loaded.count == 6)
        let server = AdminServer(kernel: kernel, token: "t")
        let port = try await startServer(server)
        defer { port.task.cancel() }
        let plugin = try #require(kernel.registry.plugin(named: "greeter"))
        let instance = InstanceInfo(id: "g1", plugin: "greeter", config: ["url": .string("http://127.0.0.1:\(port.port)/healthz")])
        let result = try await plugin.invoke(
            PluginOperation.run, RunRequest(runID: "run-1", job: "greet", instance: instance), as: RunResult.self,
            context: SessionContext(plugin: "greeter", instance: instance, runID: "run-1"))
        #expect(result.message?.hasPrefix("greeter got HTTP 200 with") == true)
        #expect(result.details["status"] == 200)
        #expect(log.all.contains { $0.contains("greeter fetching http://127.0.0.1") && $0.contains("plugin=greeter") })

        // An in-tree plugin still answers in the same process.
        let vos = try #require(kernel.registry.plugin(named: "vos"))
        await #expect(throws: PluginError.self) {
            try await vos.invoke("nope", request: [], context: SessionContext(plugin: "vos"))
        }
    }
}
