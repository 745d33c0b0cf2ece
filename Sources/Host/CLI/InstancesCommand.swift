import ArgumentParser
import Foundation
import PluginAPI

struct InstancesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instances", abstract: "Plugin instances (a VOS node, a WeCom corp, a channel...).",
        subcommands: [List.self, Add.self, Enable.self, Disable.self, Remove.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List instances (secrets shown as ***).")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let kernel = try await store.kernel()
            let all = try await kernel.store!.instances().filter { $0.id != HostJobs.instance }
            let keys = { (p: String) in kernel.registry.plugin(named: p)?.manifest.config ?? [] }
            if json {
                print(String(decoding: try WireJSON.encode(all.map { InstanceView($0, keys: keys($0.plugin)) }), as: UTF8.self))
                return
            }
            print(TextTable.render(header: ["ID", "PLUGIN", "ENABLED", "CONFIG"], rows: all.map {
                [$0.id, $0.plugin, $0.enabled ? "yes" : "no", String(decoding: JSONValue.object(ConfigSchema.redacted($0.config, keys: keys($0.plugin))).jsonBytes, as: UTF8.self)]
            }))
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an instance: config checked, default schedules created, on-create hook run.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Instance id (a-z, 0-9, _ and -).") var id: String
        @Argument(help: "Plugin name.") var plugin: String
        @Option(name: .customLong("set"), help: "Config key=value (repeatable).") var settings: [String] = []
        @Option(help: "Config as a JSON object (merged under --set).") var config: String?
        @Flag(help: "Create it disabled: nothing runs (not even its initial sync) until `instances enable`.") var disabled = false

        func run() async throws {
            let kernel = try await store.kernel()
            var cfg: [String: JSONValue] = [:]
            if let config {
                guard let parsed = try? WireJSON.decode([String: JSONValue].self, from: Array(config.utf8)) else { throw ValidationError("--config must be a JSON object") }
                cfg = parsed
            }
            cfg.merge(try KeyValues.parse(settings, option: "set")) { _, new in new }
            let created = try await kernel.instances!.create(id: id, plugin: plugin, config: cfg, enabled: !disabled)
            let schedules = try await kernel.store!.schedules(instance: created.id)
            print("created \(created.id) (\(created.plugin))\(disabled ? ", disabled," : "") with \(schedules.count) schedule(s):")
            for s in schedules { print("  \(s.job)  \(s.cron)  \(s.timezone)  next \(ISOTime.string(s.nextRunAt) ?? "-")") }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable an instance: its schedules fire again, queued runs start, a waiting initial sync runs.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Instance id.") var id: String

        func run() async throws {
            _ = try await store.kernel().instances!.update(id: id, config: nil, enabled: true)
            print("enabled \(id)")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an instance: nothing of it runs until it is enabled (its data stays readable).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Instance id.") var id: String

        func run() async throws {
            _ = try await store.kernel().instances!.update(id: id, config: nil, enabled: false)
            print("disabled \(id)")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an instance and its schedules (--purge deletes its data too).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Instance id.") var id: String
        @Flag(help: "Also delete its records, cursors and state.") var purge = false

        func run() async throws {
            try await store.kernel().instances!.delete(id: id, purge: purge)
            print("removed \(id)\(purge ? " and its data" : " (data kept; --purge deletes it)")")
        }
    }
}
