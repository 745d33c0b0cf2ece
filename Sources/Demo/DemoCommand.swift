import ArgumentParser
import Foundation
import GuankeSimulator
import Host
import Logging
import PluginAPI
import ProjectServiceSimulator
import VOSSimulator
import WeComSimulator

/// `synchost demo`: the four upstream simulators with realistic data, a host on SQLite with every plugin,
/// one instance per connector pointed at its simulator, a Notify channel on the WeCom simulator's robot
/// webhook, and the admin API and web page. A project's status changes every `--churn` seconds, so a
/// notification appears. Ctrl-C stops everything. This module knows the simulators; the kernel does not.
public struct DemoCommand: AsyncParsableCommand {
    public init() {}
    public static let configuration = CommandConfiguration(commandName: "demo", abstract: "Start the simulators, a host with every plugin wired to them, and the admin web page.")

    @Option(help: "Port of the admin API and web page (0 = any free port).") var port: Int = 8080
    @Option(help: "Data directory (SQLite database, admin token).") var dataDir: String = "./demo-data"
    @Option(name: .customLong("plugins"), help: "Plugin directory (default: next to the binary).") var pluginDirectory: String?
    @Option(help: "CDRs per day on the VOS simulator.") var cdrsPerDay: Int = 2_000
    @Option(help: "Call records per day on the Guanke simulator.") var recordsPerDay: Int = 3_000
    @Option(help: "External contacts on the WeCom simulator.") var contacts: Int = 2_000
    @Option(help: "Projects on the project service simulator.") var projects: Int = 30
    @Option(help: "Seconds between simulated project status changes (0 = none).") var churn: Int = 20
    @Option(help: "Log level.") var logLevel: String = "notice"

    public func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
        for (name, v) in [("--cdrs-per-day", cdrsPerDay), ("--records-per-day", recordsPerDay), ("--contacts", contacts), ("--projects", projects), ("--churn", churn)] where v < 0 {
            throw ValidationError("\(name) must not be negative")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical") }
    }

    public func run() async throws {
        let level = Logger.Level(rawValue: logLevel)!
        LogSetup.bootstrap(level: level)
        let logger = Logger(label: "synchost.demo")

        // Upstreams.
        var vosData = VOSSimulator.Data()
        vosData.cdrsPerDay = cdrsPerDay
        let vos = VOSSimulator(vosData)
        var guankeData = GuankeSimulator.Data()
        let perDay = recordsPerDay
        guankeData.recordsPerDay = { _ in perDay }
        let guanke = GuankeSimulator(guankeData)
        var wecomData = WeComSimulator.Data()
        wecomData.contacts = contacts
        let wecom = WeComSimulator(wecomData)
        wecom.addRobot(key: "demo-robot")
        let remote = ProjectServiceSimulator(projects: max(projects, 1))
        try await vos.start()
        try await guanke.start()
        try await wecom.start()
        try await remote.start()
        defer { vos.stop(); guanke.stop(); wecom.stop(); remote.stop() }

        // The host.
        let data = URL(fileURLWithPath: dataDir)
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let store = try await StoreFactory.open(data.appendingPathComponent("synchost.db").path, logger: logger)
        let plugins = pluginDirectory.map { URL(fileURLWithPath: $0) } ?? PluginDiscovery.defaultDirectory()
        let kernel = Kernel(pluginDirectory: plugins, logger: logger, store: store, defaultTimeZone: "Asia/Shanghai", schedulerMaxIdle: .seconds(5))
        _ = try kernel.registry.rescan()
        let failed = kernel.registry.entries.filter { !$0.isLoaded }
        for f in failed { logger.error("plugin \(f.path) failed to load: \(f.failureReason ?? "")") }
        try await kernel.scheduler!.start()
        await kernel.outbox!.start()
        let manager = kernel.instances!

        // One instance per connector, pointed at its simulator (re-pointed when the data directory is reused).
        let instances: [(String, String, [String: JSONValue])] = [
            ("ops-robot", "notify", ["channel": "wecom_robot", "webhook_key": "demo-robot", "base_url": .string(wecom.server.baseURL)]),
            ("vos-node1", "vos", ["base_url": .string(vos.server.baseURL), "cdr_pacing_ms": 100, "backfill_spacing_ms": 3_000]),
            ("guanke", "guanke", ["base_url": .string(guanke.server.baseURL), "secret": .string(guanke.data.secret)]),
            ("wecom-corp", "wecom", ["corp_id": .string(wecom.data.corpID), "corp_secret": .string(wecom.data.corpSecret),
                                     "base_url": .string(wecom.server.baseURL), "alert_channel": "ops-robot"]),
            ("projects", "projectsync", ["base_url": .string(remote.server.baseURL), "api_token": .string(remote.apiToken), "notify_channels": ["ops-robot"]]),
        ]
        for (id, plugin, config) in instances {
            if try await store.instance(id: id) != nil {
                _ = try await manager.update(id: id, config: config, enabled: true)
            } else {
                _ = try await manager.create(id: id, plugin: plugin, config: config)
            }
        }
        // The demo's pace: projects every minute (default every 15), and first runs of everything now.
        for var s in try await store.schedules(instance: "projects") where s.job == "sync" && s.cron != "* * * * *" {
            s.cron = "* * * * *"
            s.advance(after: Date())
            try await store.updateSchedule(s)
        }
        for (id, job, params) in [("vos-node1", "phones", [:]), ("guanke", "grade_stats", ["dates": "T-3..T-0"]), ("guanke", "task_stats", ["dates": "T-3..T-0"]),
                                  ("wecom-corp", "contacts_full", [:]), ("projects", "sync", [:])] as [(String, String, [String: JSONValue])] {
            _ = try await manager.enqueue(instance: id, job: job, params: params, dryRun: false, trigger: "manual")
        }

        let churn = self.churn, projects = self.projects
        let churnTask = Task { [remote, logger] in
            guard churn > 0 else { return }
            let statuses = ["in_progress", "blocked", "completed"]
            var n = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(churn))
                n += 1
                let id = "P-\(1001 + (n * 7) % max(projects, 1))"
                remote.change(id, status: statuses[n % statuses.count])
                logger.notice("demo: project \(id) is now \(statuses[n % statuses.count]) upstream; the next sync notifies ops-robot")
            }
        }
        defer { churnTask.cancel() }

        let token = try AdminToken.resolve(explicit: nil, dataDirectory: data)
        try await AdminServer(kernel: kernel, token: token.token).run(host: "127.0.0.1", port: port) { actual in
            print("""
                synchost demo is running.
                  web admin:   http://127.0.0.1:\(actual)/#token=\(token.token)
                  admin API:   http://127.0.0.1:\(actual)/api/v1  (Authorization: Bearer \(token.token))
                  simulators:  vos \(vos.server.baseURL)  guanke \(guanke.server.baseURL)  wecom \(wecom.server.baseURL)  projects \(remote.server.baseURL)
                  data:        \(data.path)
                Ctrl-C stops everything.
                """)
            fflush(nil)
        }
        await kernel.scheduler?.stop()
        await kernel.outbox?.stop()
        kernel.registry.shutdown()
        print("synchost demo stopped.")
    }
}
