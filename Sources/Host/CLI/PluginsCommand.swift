import ArgumentParser
import Foundation
import PluginAPI

struct PluginsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins", abstract: "What the loader finds in the plugin directory.",
        subcommands: [List.self, Inspect.self, New.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List plugins: name, version, kind, ABI, jobs, status, path.")

        @OptionGroup var host: HostOptions
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            let views = try await host.makeKernel().registry.entries.map(PluginView.init)
            if json {
                print(String(decoding: try WireJSON.encode(views), as: UTF8.self))
                return
            }
            let rows = views.map { v in
                [v.name, v.version ?? "-", v.kind ?? "-", v.abi ?? "-", v.jobs.map { $0.map(\.name).joined(separator: ",") } ?? "-",
                 v.reason.map { "\(v.status == "failing" ? "failing" : "failed"): \($0)" } ?? v.status + (v.notice.map { " (\($0))" } ?? ""),
                 (v.isolation ?? "-") + (v.worker.map { " (worker \($0.state)\($0.pid.map { " pid \($0)" } ?? ""), \($0.restarts) restarts)" } ?? ""), v.path]
            }
            print(TextTable.render(header: ["NAME", "VERSION", "KIND", "ABI", "JOBS", "STATUS", "MODE", "PATH"], rows: rows))
            if views.isEmpty { print("no plugins in \(host.pluginDirectoryURL.path)") }
        }
    }

    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a plugin package (connector, upstream stand-in, tests, README) that builds against the plugin kit.")

        @Argument(help: "Plugin name: lower-case letters, digits and _.") var name: String
        @Option(help: "Directory to create (default ./NAME-plugin); must be empty or absent.") var dir: String?
        @Option(help: "The plugin kit: synchost's SDK/ folder (default: the one of this synchost's checkout, else $SYNCHOST_SDK).") var sdk: String?

        func run() async throws {
            let kit = try sdk ?? ProcessInfo.processInfo.environment["SYNCHOST_SDK"] ?? Self.checkoutSDK()
            guard FileManager.default.fileExists(atPath: URL(fileURLWithPath: kit).appendingPathComponent("Package.swift").path) else {
                throw ValidationError("--sdk \(kit): no Package.swift there (pass synchost's SDK/ folder)")
            }
            let target = URL(fileURLWithPath: dir ?? "\(name)-plugin")
            try PluginScaffold.write(name: name, sdk: URL(fileURLWithPath: kit).standardizedFileURL.path, to: target)
            print(target.standardizedFileURL.path)
            FileHandle.standardError.write(Data("created the \(name) plugin: cd \(target.path) && swift test && swift build, then copy .build/debug/lib\(PluginScaffold.typeName(name)).so into the plugin directory\n".utf8))
        }

        /// The SDK/ beside the .build folder this binary was built into, when it runs from a checkout.
        static func checkoutSDK() throws -> String {
            var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<6 {
                let sdk = dir.appendingPathComponent("SDK")
                if FileManager.default.fileExists(atPath: sdk.appendingPathComponent("Package.swift").path) { return sdk.path }
                dir = dir.deletingLastPathComponent()
            }
            throw ValidationError("no plugin kit found: pass --sdk PATH (synchost's SDK/ folder) or set SYNCHOST_SDK")
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a plugin's manifest: config keys, jobs and default schedules, collections, routes.")

        @OptionGroup var host: HostOptions
        @Argument(help: "Plugin name (or file name of a plugin that failed to load).") var name: String
        @Flag(help: "Print JSON.") var json = false
        @Flag(help: "Print the README's Markdown tables (configuration, jobs, collections, routes).") var markdown = false

        func run() async throws {
            guard let e = try await host.makeKernel().registry.entry(named: name) else {
                throw ValidationError("no plugin named \(name.debugDescription) in \(host.pluginDirectoryURL.path)")
            }
            if markdown {
                guard let m = e.manifest else { throw ValidationError("plugin \(name) did not load: \(e.failureReason ?? "no manifest")") }
                print(m.markdown)
                return
            }
            let v = PluginView(e)
            if json {
                print(String(decoding: try WireJSON.encode(v), as: UTF8.self))
                return
            }
            print("\(v.name) \(v.version ?? "?") — \(v.kind ?? "?"), ABI \(v.abi ?? "?"), \(v.toolchain ?? "?")")
            print("file:   \(v.path)")
            print("status: \(v.status)\(v.reason.map { ": \($0)" } ?? "")\(v.notice.map { " (\($0))" } ?? "")")
            guard let m = e.manifest else { throw ExitCode(1) }
            print("\n\(m.description)")
            print("\nCONFIG KEYS")
            print(TextTable.render(header: ["KEY", "TYPE", "REQUIRED", "SECRET", "DEFAULT", "DESCRIPTION"], rows: m.config.map {
                [$0.key, $0.type.rawValue, $0.required ? "yes" : "", $0.secret ? "yes" : "",
                 $0.defaultValue.map { String(decoding: (try? WireJSON.encode($0)) ?? [], as: UTF8.self) } ?? "", $0.description]
            }))
            if !m.jobs.isEmpty {
                print("\nJOBS AND DEFAULT SCHEDULES")
                var rows: [[String]] = []
                for j in m.jobs {
                    let params = j.params.map(\.key).joined(separator: ",")
                    if j.schedules.isEmpty { rows.append([j.name, "(none)", "", params, j.description]) }
                    for (i, s) in j.schedules.enumerated() {
                        let p = s.params.isEmpty ? "" : String(decoding: (try? WireJSON.encode(s.params)) ?? [], as: UTF8.self)
                        rows.append([i == 0 ? j.name : "", s.cron, p, i == 0 ? params : "", i == 0 ? j.description : ""])
                    }
                }
                print(TextTable.render(header: ["JOB", "CRON", "SCHEDULE PARAMS", "PARAMS", "DESCRIPTION"], rows: rows))
            }
            if !m.collections.isEmpty {
                print("\nCOLLECTIONS")
                print(TextTable.render(header: ["NAME", "KEY", "TOMBSTONES", "DESCRIPTION"], rows: m.collections.map {
                    [$0.name, $0.keyField, $0.tombstones ? "yes" : "", $0.description]
                }))
            }
            if !m.routes.isEmpty {
                print("\nROUTES (under /api/v1/plugins/\(m.name)/)")
                print(TextTable.render(header: ["METHOD", "PATH", "AUTH", "DESCRIPTION"], rows: m.routes.map {
                    [$0.method, $0.path, $0.isPublic ? "public" : "admin token", $0.description]
                }))
            }
        }
    }
}

/// Left-aligned columns separated by two spaces.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0.indices.contains(i) ? $0[i].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
