import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

@Suite("Plugin loader: the real in-tree .so files and every kind of broken file")
struct PluginLoaderTests {
    @Test func loadsEveryInTreePluginWithItsManifest() async throws {
        let dir = try pluginDirectoryWithInTreePlugins()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kernel = try await makeKernel(dir)
        let entries = kernel.registry.entries
        #expect(entries.count == 5)
        for e in entries { #expect(e.isLoaded, "\(e.path): \(e.failureReason ?? "")") }
        #expect(Set(entries.compactMap(\.name)) == ["vos", "guanke", "wecom", "projectsync", "notify"])
        for e in entries {
            #expect(e.abiDescription == HostInfo.abi)  // built with this tree's header
            #expect(e.toolchain == SwiftToolchain.current)
        }

        let vos = try #require(kernel.registry.plugin(named: "vos")).manifest
        #expect(vos.kind == .connector)
        #expect(vos.job(named: "customers")?.schedules.map(\.cron) == ["*/10 * * * *"])
        #expect(vos.job(named: "phones")?.schedules.map(\.cron) == ["*/5 * * * *"])
        #expect(vos.job(named: "cdrs")?.schedules.map(\.cron) == ["30 1 * * *"])
        #expect(vos.collections.map(\.name) == ["customers", "phones", "cdrs"])

        let guanke = try #require(kernel.registry.plugin(named: "guanke")).manifest
        #expect(guanke.job(named: "task_stats")?.schedules.map(\.cron) == ["0 7 * * *", "0 1,10,15,21 * * *", "0 9-23 * * *"])
        #expect(guanke.job(named: "grade_stats")?.schedules.map(\.cron) == ["5 7 * * *", "5 1,10,15,21 * * *", "*/10 9-23 * * *"])
        #expect(guanke.config.first { $0.key == "password" }?.secret == true)

        let wecom = try #require(kernel.registry.plugin(named: "wecom")).manifest
        #expect(wecom.jobs.map { $0.schedules.first?.cron } == ["0 * * * *", "0 2 * * *", "0 3 * * 0"])
        #expect(wecom.config.first { $0.key == "corp_secret" }?.secret == true)

        #expect(kernel.registry.plugin(named: "notify")?.manifest.kind == .notifier)
        #expect(kernel.registry.plugin(named: "projectsync")?.manifest.routes.contains { $0.isPublic } == true)
    }

    /// Names and defaults are written once, in the manifests: each plugin README's tables are the generated block
    /// (`synchost plugins inspect NAME --markdown`) of the manifest the loaded plugin declares.
    @Test func everyPluginREADMEsTablesAreItsManifest() async throws {
        let dir = try pluginDirectoryWithInTreePlugins()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kernel = try await makeKernel(dir)
        let folders = try FileManager.default.contentsOfDirectory(atPath: Build.packageRoot.appendingPathComponent("Plugins").path)
        #expect(folders.count == 5, "\(folders)")
        for folder in folders {
            let plugin = try #require(kernel.registry.plugin(named: folder.lowercased()), "no loaded plugin for Plugins/\(folder)")
            let readme = try String(contentsOf: Build.packageRoot.appendingPathComponent("Plugins/\(folder)/README.md"), encoding: .utf8)
            let block = PluginManifest.markdownBlock(in: readme)
            #expect(block == plugin.manifest.markdown, "Plugins/\(folder)/README.md: regenerate its block with `synchost plugins inspect \(plugin.name) --markdown`")
        }
    }

    @Test func everyBrokenFileIsReportedPreciselyAndTheGoodPluginsStillLoad() async throws {
        let dir = try pluginDirectoryWithInTreePlugins()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "this is not a shared object\n".write(to: dir.appendingPathComponent("notes.so"), atomically: true, encoding: .utf8)
        _ = try await compileCPlugin(into: dir, fileName: "no_entry.so", defines: ["NO_ENTRY"])
        _ = try await compileCPlugin(into: dir, fileName: "major_plus_one.so", defines: ["PLUGIN_NAME=\"major\"", "ABI_MAJOR_DELTA=1"])
        _ = try await compileCPlugin(into: dir, fileName: "minor_plus_one.so", defines: ["PLUGIN_NAME=\"minor\"", "ABI_MINOR_DELTA=1"])
        _ = try await compileCPlugin(into: dir, fileName: "older_minor.so", defines: ["PLUGIN_NAME=\"older\"", "ABI_MINOR_DELTA=-\(SH_ABI_MINOR)"])
        _ = try await compileCPlugin(into: dir, fileName: "zz_duplicate_vos.so", defines: ["PLUGIN_NAME=\"vos\""])
        _ = try await compileCPlugin(into: dir, fileName: "broken_manifest.so", defines: ["PLUGIN_NAME=\"broken\"", "BROKEN_MANIFEST"])
        _ = try await compileCPlugin(into: dir, fileName: "unresolved.so", defines: ["PLUGIN_NAME=\"unresolved\"", "UNRESOLVED_SYMBOL"])
        _ = try await compileCPlugin(into: dir, fileName: "wrong_magic.so", defines: ["PLUGIN_NAME=\"magic\"", "WRONG_MAGIC"])
        _ = try await compileCPlugin(into: dir, fileName: "bad_name.so", defines: ["PLUGIN_NAME=\"Bad-Name\""])

        let kernel = try await makeKernel(dir)
        func reason(_ file: String) -> String {
            kernel.registry.entries.first { $0.path.hasSuffix("/" + file) }?.failureReason ?? "(loaded or missing)"
        }
        #expect(reason("notes.so").contains("dlopen failed"))
        #expect(reason("notes.so").contains("notes.so"))
        #expect(reason("notes.so").contains("invalid ELF header") || reason("notes.so").contains("file too short"))
        #expect(reason("no_entry.so").contains("missing entry symbol synchost_plugin_entry_v1"))
        #expect(reason("major_plus_one.so").contains("ABI major version mismatch: plugin built for ABI 2.\(SH_ABI_MINOR), host provides \(HostInfo.abi)"))
        #expect(reason("minor_plus_one.so").contains("ABI minor version too new: plugin needs ABI 1.\(SH_ABI_MINOR + 1), host provides \(HostInfo.abi)"))
        #expect(reason("zz_duplicate_vos.so").contains("duplicate plugin name \"vos\": already loaded from"))
        #expect(reason("zz_duplicate_vos.so").contains("libVOS.so"))
        #expect(reason("broken_manifest.so").contains("invalid manifest: not valid JSON"))
        #expect(reason("unresolved.so").contains("undefined symbol: synchost_fixture_function_that_does_not_exist"))
        #expect(reason("wrong_magic.so").contains("wrong magic 0x0000000000001234"))
        #expect(reason("bad_name.so").contains("invalid plugin name \"Bad-Name\""))

        let loaded = Set(kernel.registry.loaded.map(\.name))
        // A plugin built for 1.0 loads in a 1.N host.
        #expect(loaded == ["vos", "guanke", "wecom", "projectsync", "notify", "older"])
        #expect(kernel.registry.entry(named: "older")?.abiDescription == "1.0")
        #expect(kernel.registry.entries.count == 15)
    }

    @Test func aManifestWithBadContentIsRefusedWithEveryProblemNamed() {
        let m = PluginManifest(
            name: "x", version: "1", kind: .notifier, description: "",
            config: [ConfigKey("Bad Key", .string, description: ""), ConfigKey("n", .integer, default: "seven", description: "")],
            jobs: [JobSpec("sync", description: "", schedules: [DefaultSchedule("* * *")])],
            collections: [CollectionSpec("a", keyField: "k", description: ""), CollectionSpec("a", keyField: "k", description: "")],
            routes: [RouteSpec("FETCH", "/abs", description: "")])
        let problems = ManifestValidation.problems(in: m).joined(separator: "\n")
        #expect(problems.contains("config key \"Bad Key\" is not an identifier"))
        #expect(problems.contains("config key n: default is string, declared integer"))
        #expect(problems.contains("job sync: default schedule \"* * *\": expected 5 fields"))
        #expect(problems.contains("a notifier declares no jobs"))
        #expect(problems.contains("duplicate collection \"a\""))
        #expect(problems.contains("method FETCH"))
        #expect(problems.contains("the path must be relative"))
    }

    /// ABI 1.4 views: what a view reads and what its actions run must be declared, with labels in both languages.
    @Test func viewsMustNameDeclaredCollectionsRoutesAndJobs() {
        typealias T = LocalizedText
        let m = PluginManifest(
            name: "x", version: "1", kind: .connector, description: "",
            jobs: [JobSpec("sync", description: "")],
            collections: [CollectionSpec("items", keyField: "id", description: "")],
            routes: [RouteSpec("GET", "instances/{id}/stats", description: ""), RouteSpec("DELETE", "instances/{id}/items/{key}", description: "")],
            views: [
                ViewSpec("ok", .table, title: T("项目", "Items"), collection: "items", columns: [ViewColumn("@key", T("键", "Key"))], actions: [
                    ViewAction("sync", .job, label: T("同步", "Sync"), target: "sync"),
                    ViewAction("drop", .route, label: T("删除", "Delete"), target: "instances/{id}/items/{key}", method: "DELETE", row: true),
                ]),
                ViewSpec("ok", .chart, title: T("", "Chart"), collection: "nope", chart: ChartSpec(.line, series: [])),
                ViewSpec("card", .summary, title: T("卡片", "Card"), route: "instances/{id}/missing", actions: [
                    ViewAction("run", .job, label: T("跑", "Run"), target: "other"),
                    ViewAction("post", .route, label: T("发", "Post"), target: "instances/{id}/stats"),
                    ViewAction("each", .live, label: T("行", "Row"), row: true),
                ]),
                ViewSpec("Bad Id", .table, title: T("表", "Table"), order: "name"),
            ])
        let problems = ManifestValidation.problems(in: m).joined(separator: "\n")
        #expect(problems.contains("duplicate view \"ok\""))
        #expect(problems.contains("view \"ok\": title needs zh-CN and en"))
        #expect(problems.contains("collection \"nope\" is not declared"))
        #expect(problems.contains("a chart needs series"))
        #expect(problems.contains("route \"instances/{id}/missing\" is not a declared GET route"))
        #expect(problems.contains("action run runs \"other\", not one of the plugin's jobs"))
        #expect(problems.contains("action post calls POST \"instances/{id}/stats\", not a declared route"))
        #expect(problems.contains("action each reads live, but the view reads no collection"))
        #expect(problems.contains("action each is per row, but only a table has rows"))
        #expect(problems.contains("view \"Bad Id\" is not an identifier"))
        #expect(problems.contains("a table reads a collection") && problems.contains("a table needs columns") && problems.contains("order must be one of"))
        #expect(!problems.contains("action sync") && !problems.contains("action drop"))
    }

    /// ABI 1.3: route bodies are bytes both ways (frames), not JSON strings; a plugin built for 1.2 still gets
    /// and gives the JSON payloads of its version, from the same host.
    @Test func routeBodiesTravelAsBytesToA13PluginAndAsJSONTextToAnOlderOne() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try await compileCPlugin(into: dir, fileName: "tiny.so")
        // A 1.2 plugin: the last minor before framed route bodies.
        _ = try await compileCPlugin(into: dir, fileName: "tiny_old.so", defines: ["PLUGIN_NAME=\"tiny_old\"", "ABI_MINOR_DELTA=-\(SH_ABI_MINOR - 2)"])
        let kernel = Kernel(pluginDirectory: dir, logger: capturingLogger(CapturedLog()),
                            store: try await openSQLite(dir.appendingPathComponent("routes.db").path))
        try kernel.registry.rescan()
        #expect(kernel.registry.plugin(named: "tiny_c")?.abiMinor == SH_ABI_MINOR && kernel.registry.plugin(named: "tiny_old")?.abiMinor == 2)
        let server = try await startServer(AdminServer(kernel: kernel, token: "t"))
        defer { server.task.cancel() }
        let base = "http://127.0.0.1:\(server.port)/api/v1/plugins"

        let binary: [UInt8] = [0x00, 0xFF, 0x80, 0x41, 0x0A, 0xC3, 0x28, 0x00]  // NULs and invalid UTF-8
        let framed = try await request("POST", "\(base)/tiny_c/reverse", token: "t", bytes: binary)
        #expect(framed.status == 200 && framed.headers["content-type"] == "application/octet-stream", "\(framed.status) \(framed.headers)")
        #expect(framed.bytes == Array(binary.reversed()), "\(framed.bytes)")

        let json = try await request("POST", "\(base)/tiny_old/reverse", token: "t", body: "abc123")
        #expect(json.status == 200 && json.body == "321cba" && json.headers["content-type"] == "text/plain", "\(json.status) \(json.body)")
    }

    /// What the header promises a C author: a fetch with only a URL works (every option has a default), the
    /// host says what it offers, and an operation it lacks is "unavailable", not "invalid".
    @Test func aCPluginFetchesWithDefaultsAsksWhatTheHostOffersAndLearnsWhatItLacks() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try await compileCPlugin(into: dir, fileName: "tiny.so")
        // With a store, so every service is the real one (a host without one answers "no store attached").
        let kernel = Kernel(pluginDirectory: dir, logger: capturingLogger(CapturedLog()),
                            store: try await openSQLite(dir.appendingPathComponent("contract.db").path))
        try kernel.registry.rescan()
        let server = try await startServer(AdminServer(kernel: kernel, token: "t"))
        defer { server.task.cancel() }
        let plugin = try #require(kernel.registry.plugin(named: "tiny_c"))
        let context = SessionContext(plugin: "tiny_c")

        var answer = FrameReader(try await plugin.invoke("fetch_min", request: Array("http://127.0.0.1:\(server.port)/healthz".utf8), context: context))
        let head = try JSONValue.parse(try answer.next())
        #expect(head["status"] == 200 && head["attempts"] == 1)
        #expect(String(decoding: try answer.next(), as: UTF8.self).contains(#""ready":"#))

        let info = try JSONValue.parse(try await plugin.invoke("service", request: Array("config:host".utf8), context: context))
        #expect(info["abi"] == "1.6" && info["host_version"]?.stringValue == SynchostVersion.current)
        #expect(info["services"]?["fetch"]?["open"] == "1.2" && info["services"]?["fetch"]?["read"] == "1.2" && info["services"]?["fetch"]?["close"] == "1.2")
        #expect(info["services"]?["store"]?["list"] == "1.1" && info["services"]?["store"]?["upsert"] == "1.0")
        #expect(info["operations"]?["route"] == "1.1" && info["limits"]?["fetch_response_bytes"]?.intValue == 512 << 20)

        for call in ["store:nope", "config:nope", "fetch:nope", "schedule:nope", "notify:nope"] {
            do {
                _ = try await plugin.invoke("service", request: Array(call.utf8), context: context)
                Issue.record("\(call) succeeded")
            } catch let e as PluginError {
                #expect(e.kind == .unavailable, "\(call): \(e)")
                #expect(e.message.contains("has no operation \"nope\""), "\(call): \(e.message)")
            }
        }
    }

    @Test func aCPluginRunsAJobThatCallsHostServicesAsynchronously() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try await compileCPlugin(into: dir, fileName: "tiny.so")
        let log = CapturedLog()
        let kernel = try await makeKernel(dir, log: log)
        let plugin = try #require(kernel.registry.plugin(named: "tiny_c"))
        #expect(plugin.manifest.job(named: "greet")?.schedules.first?.cron == "*/5 * * * *")
        #expect(plugin.manifest.config.first?.defaultValue == "hello")

        let instance = InstanceInfo(id: "c1", plugin: "tiny_c", config: ["greeting": "bonjour"])
        let result = try await plugin.invoke(
            PluginOperation.run, RunRequest(runID: "r1", job: "greet", instance: instance), as: RunResult.self,
            context: SessionContext(plugin: "tiny_c", instance: instance, runID: "r1"))
        #expect(result.complete)
        #expect(result.counts.fetched == 1)
        #expect(result.message == #"config={"greeting":"bonjour"}"#)
        #expect(log.all.contains { $0.contains("tiny_c: greet job running") && $0.contains("instance=c1") && $0.contains("run=r1") })

        // Bytes cross unchanged, whatever they are.
        let payload: [UInt8] = Array(0...255) + Array("日本語".utf8)
        let echoed = try await plugin.invoke("echo", request: payload, context: SessionContext(plugin: "tiny_c"))
        #expect(echoed == payload)

        // An unknown operation is answered with an error, not a crash.
        await #expect(throws: PluginError.self) {
            try await plugin.invoke("nope", request: [], context: SessionContext(plugin: "tiny_c"))
        }
        #expect(kernel.router.sessions.openCount == 0)
    }

    @Test func aPluginThatNeverAnswersIsAbandonedAtItsTimeoutAndOthersKeepWorking() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try await compileCPlugin(into: dir, fileName: "tiny.so")
        let kernel = try await makeKernel(dir)
        let plugin = try #require(kernel.registry.plugin(named: "tiny_c"))
        let started = ContinuousClock.now
        do {
            _ = try await plugin.invoke("hang", request: [], context: SessionContext(plugin: "tiny_c"), timeout: .milliseconds(300))
            Issue.record("a hanging call returned")
        } catch let e as PluginError {
            #expect(e.kind == .cancelled)
            #expect(e.message.contains("timed out"))
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(try await plugin.invoke("echo", request: [1, 2, 3], context: SessionContext(plugin: "tiny_c")) == [1, 2, 3])
    }

    @Test func swiftPluginErrorsCrossTheBoundaryWithTheirKind() async throws {
        let dir = try pluginDirectoryWithInTreePlugins()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kernel = try await makeKernel(dir)
        let vos = try #require(kernel.registry.plugin(named: "vos"))
        let instance = InstanceInfo(id: "n1", plugin: "vos", config: [:])
        do {
            _ = try await vos.invoke("no.such.op", request: [], context: SessionContext(plugin: "vos", instance: instance))
            Issue.record("unknown op succeeded")
        } catch let e as PluginError {
            #expect(e.kind == .unavailable)
            #expect(e.message == "plugin vos does not support operation no.such.op")
        }
        do {
            _ = try await vos.invoke(PluginOperation.run, request: Array("{not json".utf8), context: SessionContext(plugin: "vos"))
            Issue.record("malformed request succeeded")
        } catch let e as PluginError {
            #expect(e.kind == .internal)
        }
    }

    @Test func aPluginDroppedIntoTheDirectoryIsPickedUpByRescanWithoutRestart() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: Build.products.appendingPathComponent("libVOS.so"), to: dir.appendingPathComponent("libVOS.so"))
        let kernel = try await makeKernel(dir)
        #expect(kernel.registry.loaded.map(\.name) == ["vos"])

        _ = try await compileCPlugin(into: dir, fileName: "tiny.so")
        let result = try await kernel.registry.scan()
        #expect(result.added.map(\.name) == ["tiny_c"])
        #expect(Set(kernel.registry.loaded.map(\.name)) == ["vos", "tiny_c"])

        // A second rescan with nothing new adds nothing; a replaced file is noted, not reloaded.
        #expect(try await kernel.registry.scan().added.isEmpty)
        _ = try await compileCPlugin(into: dir, fileName: "tiny.so", defines: ["PLUGIN_NAME=\"tiny_c\"", "ABI_MINOR_DELTA=0", "EXTRA_BUILD=1"])
        try Data("padding".utf8).append(toFile: dir.appendingPathComponent("tiny.so"))
        let changed = try await kernel.registry.scan()
        #expect(changed.changed.count == 1)
        #expect(kernel.registry.entry(named: "tiny_c")?.notice?.contains("restart") == true)
    }
}

extension Data {
    func append(toFile url: URL) throws {
        let h = try FileHandle(forWritingTo: url)
        defer { try? h.close() }
        h.seekToEndOfFile()
        h.write(self)
    }
}
