import Foundation
import Hummingbird
import PluginAPI
import SimulatorKit
import Testing

@testable import Host
@testable import TestKit

/// A plugin built in its own package, later and separately, loads into the already-built host binary — and the
/// plugin guide is proven: its Swift example (package, source, unit test) and its C example are the code built.
@Suite("A separately built plugin drops into an existing host", .serialized)
struct ExternalPluginTests {
    /// The guide's code blocks: the Swift package manifest, the plugin source, its unit test, and the C plugin.
    static func guideExamples() throws -> (package: String, source: String, unitTest: String, c: String) {
        let guide = try String(contentsOf: Build.packageRoot.appendingPathComponent("docs/writing-a-plugin.md"), encoding: .utf8)
        func blocks(_ language: String) -> [String] {
            guide.components(separatedBy: "```\(language)\n").dropFirst().compactMap { $0.components(separatedBy: "\n```").first }
        }
        let swift = blocks("swift")
        let package = try #require(swift.first { $0.contains("import PackageDescription") }, "the guide's Package.swift")
        let source = try #require(swift.first { $0.hasPrefix("// Sources/MyPlugin/MyPlugin.swift") }, "the guide's plugin source")
        let unitTest = try #require(swift.first { $0.contains("@testable import MyPlugin") }, "the guide's unit test")
        let c = try #require(blocks("c").first { $0.contains("synchost_plugin_entry_v1") }, "the guide's C plugin")
        return (package, source, unitTest, c)
    }

    /// Builds the guide's Swift example in a scratch package against the plugin kit (SDK/, by path) and runs its
    /// unit test there (the kit's fake host); returns the .so. The kit has no package dependencies, so nothing
    /// is fetched: no checkouts, no pins.
    static func buildGuideSwiftPlugin() async throws -> URL {
        let work = try temporaryDirectory("external-plugin")
        let fm = FileManager.default
        let guide = try guideExamples()
        let sdk = Build.packageRoot.appendingPathComponent("SDK").path
        let manifest = guide.package.replacingOccurrences(of: #"let sdk = "../synchost/SDK""#, with: "let sdk = \"\(sdk)\"")
        #expect(manifest != guide.package, "the guide's Package.swift names the kit as `let sdk = \"../synchost/SDK\"`")
        for (path, text) in [("Package.swift", manifest), ("Sources/MyPlugin/MyPlugin.swift", guide.source),
                             ("Tests/MyPluginTests/MyPluginTests.swift", guide.unitTest)] {
            let url = work.appendingPathComponent(path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        var env = ProcessInfo.processInfo.environment
        env = env.filter { !$0.key.hasPrefix("SWIFTPM_") && !$0.key.hasPrefix("XCTest") }
        let started = ContinuousClock.now
        let r = try await runProcess("/usr/bin/env", ["swift", "build", "--package-path", work.path, "--product", "MyPlugin"], environment: env)
        guard r.status == 0 else { throw HostError.invalid("building the guide's plugin failed:\n\(r.stdout)\n\(r.stderr)") }
        print("external plugin: resolved and built against the kit in \(ContinuousClock.now - started)")
        let checkouts = (try? fm.contentsOfDirectory(atPath: work.appendingPathComponent(".build/checkouts").path)) ?? []
        #expect(checkouts.isEmpty, "the kit pulled packages: \(checkouts)")
        let resolved = (try? String(contentsOf: work.appendingPathComponent("Package.resolved"), encoding: .utf8)) ?? ""
        #expect(!resolved.contains("\"location\""), "pins: \(resolved)")
        let so = work.appendingPathComponent(".build/debug/libMyPlugin.so")
        guard fm.fileExists(atPath: so.path) else { throw HostError.invalid("no libMyPlugin.so after the build") }
        let tests = try await runProcess("/usr/bin/env", ["swift", "test", "--package-path", work.path], environment: env)
        #expect(tests.status == 0 && (tests.stdout + tests.stderr).contains("observesEveryCity() passed"), "\(tests.stdout)\n\(tests.stderr)")
        return so
    }

    /// Compiles the guide's C plugin with the command the guide gives.
    static func buildGuideCPlugin(into dir: URL) async throws {
        let source = dir.appendingPathComponent("hello_plugin.c")
        try guideExamples().c.write(to: source, atomically: true, encoding: .utf8)
        let include = Build.packageRoot.appendingPathComponent("Sources/PluginABI/include").path
        let cc = try await runProcess("/usr/bin/env", ["cc", "-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Werror", "-I", include,
                                                      "-o", dir.appendingPathComponent("hello.so").path, source.path])
        #expect(cc.status == 0, "\(cc.stderr)")
        try FileManager.default.removeItem(at: source)
    }

    @Test func theGuidesExamplesLoadBesideTheInTreePluginsAndTheirJobsRun() async throws {
        let so = try await Self.buildGuideSwiftPlugin()
        defer { try? FileManager.default.removeItem(at: so.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()) }
        let dir = try pluginDirectoryWithInTreePlugins()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: so, to: dir.appendingPathComponent("libMyPlugin.so"))
        try await Self.buildGuideCPlugin(into: dir)

        // The exported surface is the entry symbol alone.
        let nm = try await runProcess("/usr/bin/env", ["nm", "-D", "--defined-only", so.path])
        let globals = nm.stdout.split(separator: "\n").filter { $0.split(separator: " ").dropFirst().first.map { $0.uppercased() == $0 } ?? false }
        #expect(globals.map { $0.split(separator: " ").last.map(String.init) } == ["synchost_plugin_entry_v1"])

        // The host binary, built before these plugins existed, lists them with the in-tree ones.
        let list = try await runProcess(Build.synchost.path, ["plugins", "list", "--json", "--plugins", dir.path])
        #expect(list.status == 0, "\(list.stderr)")
        let views = try WireJSON.decode([PluginView].self, from: Array(list.stdout.utf8))
        #expect(Set(views.map(\.name)) == ["weather", "hello_c", "vos", "guanke", "wecom", "projectsync", "notify"])
        #expect(views.allSatisfy { $0.status == "loaded" }, "\(views.map { "\($0.name): \($0.reason ?? "")" })")
        #expect(views.first { $0.name == "weather" }?.jobs?.first?.schedules.first?.cron == "*/15 * * * *")

        // Their jobs run in a host that also holds the in-tree plugins (several SDK copies side by side): the
        // Swift one fetches through the host's HTTP service and stores through its store service.
        let upstream = SimulatorServer(name: "weather")
        let router = Router()
        router.get("now") { _, _ in #"[{"city":"Beijing","temp":3},{"city":"Shanghai","temp":11}]"# }
        _ = try await upstream.start(router: router)
        defer { upstream.stop() }
        let host = try await TestHost(reusing: dir)
        let created = try await host.api("POST", "/instances", #"{"id": "w", "plugin": "weather", "config": {"base_url": "\#(upstream.baseURL)", "api_key": "k"}}"#)
        #expect(created.status == 201, "\(created.body)")
        let run = try await host.run("w", "observe")
        #expect(run.status == .succeeded && run.counts.inserted == 2, "\(run.counts) \(run.error ?? "")")
        #expect(Set(try await host.records("w", "observations").map(\.key)) == ["Beijing", "Shanghai"])
        #expect(host.log.all.contains { $0.contains("stored 2 observations") && $0.contains("plugin=weather") })
        #expect(try await host.api("POST", "/instances", #"{"id": "c", "plugin": "hello_c", "config": {}}"#).status == 201)
        let hello = try await host.run("c", "hello")
        #expect(hello.status == .succeeded && hello.message == "hello from C", "\(hello.message ?? "") \(hello.error ?? "")")
        await host.stop()
    }

    /// `synchost plugins new` (the binary, as an author runs it): the generated package builds against the kit,
    /// passes its own tests as generated, and loads into the host beside the in-tree plugins.
    @Test func aScaffoldedPluginBuildsPassesItsTestsAndLoads() async throws {
        let work = try temporaryDirectory("scaffold")
        defer { try? FileManager.default.removeItem(at: work) }
        let package = work.appendingPathComponent("acme-plugin")
        let sdk = Build.packageRoot.appendingPathComponent("SDK").path
        let made = try await runProcess(Build.synchost.path, ["plugins", "new", "acme_crm", "--dir", package.path, "--sdk", sdk])
        #expect(made.status == 0 && made.stdout.contains(package.lastPathComponent), "\(made.stdout)\n\(made.stderr)")
        // A second run refuses to overwrite; a bad name is refused by name.
        #expect(try await runProcess(Build.synchost.path, ["plugins", "new", "acme_crm", "--dir", package.path, "--sdk", sdk]).status != 0)
        let bad = try await runProcess(Build.synchost.path, ["plugins", "new", "Acme-CRM", "--dir", work.appendingPathComponent("x").path, "--sdk", sdk])
        #expect(bad.status != 0 && bad.stderr.contains("lower-case"), "\(bad.stderr)")

        let env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SWIFTPM_") && !$0.key.hasPrefix("XCTest") }
        let tests = try await runProcess("/usr/bin/env", ["swift", "test", "--package-path", package.path], environment: env)
        #expect(tests.status == 0, "\(tests.stdout.suffix(3000))\n\(tests.stderr.suffix(3000))")
        for name in ["aSyncStoresEveryPageAndASecondChangesNothing", "anUpstreamThatKeepsFailingFailsTheRunAsAnUpstreamError",
                     "aConfigurationWithoutAnHTTPURLIsRefused", "theREADMEsTablesAreTheManifest"] {
            #expect((tests.stdout + tests.stderr).contains("\(name)() passed"), "\(name)")
        }
        let built = try await runProcess("/usr/bin/env", ["swift", "build", "--package-path", package.path, "--product", "AcmeCrm"], environment: env)
        #expect(built.status == 0, "\(built.stderr.suffix(3000))")

        let dir = try pluginDirectoryWithInTreePlugins()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: package.appendingPathComponent(".build/debug/libAcmeCrm.so"), to: dir.appendingPathComponent("libAcmeCrm.so"))
        let inspect = try await runProcess(Build.synchost.path, ["plugins", "inspect", "acme_crm", "--json", "--plugins", dir.path])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let view = try WireJSON.decode(PluginView.self, from: Array(inspect.stdout.utf8))
        #expect(view.status == "loaded" && view.jobs?.map(\.name) == ["sync"], "\(inspect.stdout)")
    }
}
