import ArgumentParser
import Foundation
import Logging

/// `synchost`: the host's command line. One file per command in this folder.
public struct SynchostCommand: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "synchost",
            abstract: "Keeps upstream business data synced into local storage, through dlopen'd plugins.",
            version: SynchostVersion.current,
            subcommands: extraSubcommands + [ServeCommand.self, PluginsCommand.self, InstancesCommand.self, SchedulesCommand.self, RunCommand.self,
                                             RunsCommand.self, RunOnceCommand.self, StatusCommand.self, CronCommand.self,
                                             SecretsCommand.self, TokensCommand.self, AuditCommand.self, AlertsCommand.self, ReportsCommand.self,
                                             PluginWorkerCommand.self]
        )
    }

    /// Commands the executable adds before parsing (`demo`, which brings the simulators: the kernel itself
    /// knows no plugin). Set once, at start-up, before anything else runs.
    nonisolated(unsafe) public static var extraSubcommands: [any ParsableCommand.Type] = []

    public init() {}
}

/// Options every command that loads plugins shares.
struct HostOptions: ParsableArguments {
    @Option(name: .customLong("plugins"), help: "Plugin directory (default: next to the binary, then ./plugins).")
    var pluginDirectory: String?

    @Option(help: "Data directory (database, generated admin token).")
    var dataDir: String = "."

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default: info for serve, warning otherwise).")
    var logLevel: String?

    @Option(help: "Plugins that run in their own supervised worker process (names or file stems, comma-separated, or all; default $SYNCHOST_ISOLATE, else none: in-process).")
    var isolate: String?

    @Option(name: .customLong("worker-memory-mb"), help: "Memory limit (RLIMIT_DATA) of each plugin worker in MiB (default $SYNCHOST_WORKER_MEMORY_MB, else none).")
    var workerMemoryMB: Int?

    /// The isolation setting of the command line and the environment.
    var isolation: IsolationPolicy {
        let env = ProcessInfo.processInfo.environment
        return IsolationPolicy(plugins: IsolationPolicy.names(isolate ?? env["SYNCHOST_ISOLATE"]),
                               memoryLimitMB: workerMemoryMB ?? env["SYNCHOST_WORKER_MEMORY_MB"].flatMap(Int.init))
    }

    var pluginDirectoryURL: URL {
        pluginDirectory.map { URL(fileURLWithPath: $0) } ?? PluginDiscovery.defaultDirectory()
    }

    var dataDirectoryURL: URL { URL(fileURLWithPath: dataDir) }

    /// The secret key ring of the database at `location`: the environment's, else for SQLite `<database>.key`
    /// beside it, for PostgreSQL `<data-dir>/secret.key` (replicas sharing the database share the key: set
    /// SYNCHOST_SECRET_KEY or SYNCHOST_SECRET_KEY_FILE on each).
    func secretKeys(for location: String) -> SecretKeySource {
        guard case .postgres? = try? DatabaseLocation(parsing: location) else { return .standard() }
        return .standard(file: dataDirectoryURL.appendingPathComponent("secret.key"))
    }

    func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        if let dir = pluginDirectory {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw ValidationError("--plugins \(dir): no such directory")
            }
        }
    }

    /// A kernel with every plugin of the directory loaded (failures recorded, not thrown).
    @discardableResult
    func bootstrapLogging(default level: Logger.Level) throws -> Logger {
        LogSetup.bootstrap(level: logLevel.flatMap(Logger.Level.init(rawValue:)) ?? level)
        return Logger(label: "synchost")
    }

    func makeKernel(defaultLogLevel: Logger.Level = .warning, store: (any HostDatabase)? = nil, defaultTimeZone: String = "UTC",
                    schedulerMaxIdle: Duration = .seconds(30), schedulerLease: Duration = .seconds(60),
                    maxConcurrentRuns: Int = Scheduler.defaultMaxConcurrentRuns) async throws -> Kernel {
        // The operators' stored per-plugin settings beat the command line's for their plugins.
        let stored = try await store?.pluginIsolation() ?? [:]
        let kernel = Kernel(pluginDirectory: pluginDirectoryURL, logger: try bootstrapLogging(default: defaultLogLevel), store: store,
                            defaultTimeZone: defaultTimeZone, schedulerLease: schedulerLease, schedulerMaxIdle: schedulerMaxIdle,
                            maxConcurrentRuns: maxConcurrentRuns, isolation: isolation.applying(stored: stored))
        try await kernel.registry.scan()
        // A database written before secrets were sealed: seal what it holds in clear, once.
        if let sql = store as? SQLStore, case let n = try await sql.sealClearSecrets(), n > 0 {
            kernel.logger.notice("sealed the secret config values of \(n) instance(s) that were stored in clear")
        }
        return kernel
    }
}

extension SynchostCommand {
    /// The executable's entry: parse, then run the chosen command asynchronously.
    public static func runAsMain(_ arguments: [String]? = nil) async {
        do {
            var command = try parseAsRoot(arguments)
            // What a command changes is in the audit log under the shell's user — except what `serve` (and the demo)
            // do: those act for API callers, or for nobody (the scheduler).
            let name = type(of: command).configuration.commandName
            let actor: AuditActor? = command is ServeCommand || name == "demo" ? nil : .commandLine()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await AuditActor.$current.withValue(actor) { try await asyncCommand.run() }
            } else {
                try command.run()
            }
        } catch HostError.invalid(let message) {
            // Bad input (a database location, a value): said plainly, exit status 2 like a usage error.
            FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
            exit(withError: ExitCode(2))
        } catch {
            exit(withError: error)
        }
    }
}
