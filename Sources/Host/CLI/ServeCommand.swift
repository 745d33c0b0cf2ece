import ArgumentParser
import Dispatch
import Foundation

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Load the plugins and serve the admin API (SIGHUP rescans the plugin directory).")

    @OptionGroup var host: HostOptions

    @Option(help: "Address to listen on.")
    var listen: String = "127.0.0.1"

    @Option(help: "Port of the admin API (0 = any free port).")
    var port: Int = 8080

    @Option(help: "Admin API bearer token (default: $SYNCHOST_ADMIN_TOKEN, else generated and stored in the data directory).")
    var adminToken: String?

    @Option(help: "Database: an SQLite path or sqlite:PATH (default <data-dir>/synchost.db), or a postgres:// URL (default $SYNCHOST_DATABASE).")
    var database: String?

    @Option(help: "Default IANA time zone of new schedules (default $SYNCHOST_TIMEZONE, else UTC).")
    var timezone: String?

    @Option(help: "Longest time (seconds) the dispatcher sleeps without looking at the database; other replicas' changes are seen within it.")
    var schedulerMaxIdle: Int = 30

    @Option(help: "How long (seconds) a run's lease lasts without renewal; a replica that dies leaves its runs to be recovered by the others after it.")
    var schedulerLease: Int = 60

    @Option(help: "Runs executing at once on this host (1-256).")
    var maxConcurrentRuns: Int = Scheduler.defaultMaxConcurrentRuns

    @Option(help: "Serve the admin API over HTTPS with this PEM certificate chain (with --tls-key).")
    var tlsCert: String?

    @Option(help: "The PEM private key of --tls-cert (keep it mode 0600).")
    var tlsKey: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
        guard (1...256).contains(maxConcurrentRuns) else { throw ValidationError("--max-concurrent-runs must be 1-256") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    func run() async throws {
        let logger = try host.bootstrapLogging(default: .info)
        let env = ProcessInfo.processInfo.environment
        let zone = timezone ?? env["SYNCHOST_TIMEZONE"] ?? "UTC"
        guard TimeZone(identifier: zone) != nil else { throw ValidationError("--timezone \(zone): unknown IANA time zone") }
        let location = database ?? env["SYNCHOST_DATABASE"] ?? host.dataDirectoryURL.appendingPathComponent("synchost.db").path
        let store = try await StoreFactory.open(location, logger: logger, secretKeys: host.secretKeys(for: location))
        guard (1...3600).contains(schedulerMaxIdle) else { throw ValidationError("--scheduler-max-idle must be 1-3600") }
        guard (3...3600).contains(schedulerLease) else { throw ValidationError("--scheduler-lease must be 3-3600") }
        let kernel = try await host.makeKernel(defaultLogLevel: .info, store: store, defaultTimeZone: zone, schedulerMaxIdle: .seconds(schedulerMaxIdle),
                                               schedulerLease: .seconds(schedulerLease), maxConcurrentRuns: maxConcurrentRuns)
        logger.info("store: \(store.backend) at \(SecretMasker.redact(location))")
        try await kernel.scheduler?.start()
        await kernel.outbox?.start()
        let token = try AdminToken.resolve(explicit: adminToken, dataDirectory: host.dataDirectoryURL)
        let tls = tlsCert.map { AdminTLS(certificatePath: $0, keyPath: tlsKey ?? "") }
        // Checked before serving: a bad certificate is a clear error, not a listener that fails every handshake.
        _ = try tls?.configuration()
        PrivateFiles.warn(PrivateFiles.of(location: location, keyRing: store.sealer?.keyRing, dataDirectory: host.dataDirectoryURL) + (tlsKey.map { [$0] } ?? []),
                          logger: logger)
        let entries = kernel.registry.entries
        kernel.logger.info("\(entries.filter(\.isLoaded).count) plugin(s) loaded, \(entries.filter { !$0.isLoaded }.count) failed, from \(kernel.registry.directory.path)")
        let sighup = SignalRescan(registry: kernel.registry)
        sighup.install()
        let server = AdminServer(kernel: kernel, token: token.token, tls: tls)
        try await server.run(host: listen, port: port) { actualPort in
            print("synchost \(SynchostVersion.current) admin API listening on \(tls == nil ? "http" : "https")://\(listen):\(actualPort)")
            if token.generated { print("admin token (shown once, stored in \(host.dataDirectoryURL.appendingPathComponent("admin-token").path)): \(token.token)") }
            fflush(nil)
        }
        await kernel.scheduler?.stop()
        await kernel.outbox?.stop()
        kernel.registry.shutdown()
    }
}

/// SIGHUP → rescan the plugin directory for new plugins.
final class SignalRescan: Sendable {
    let registry: PluginRegistry
    nonisolated(unsafe) private var source: (any DispatchSourceSignal)?

    init(registry: PluginRegistry) { self.registry = registry }

    func install() {
        signal(SIGHUP, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        s.setEventHandler { [registry] in
            do {
                let r = try registry.rescan()
                registry.logger.notice("SIGHUP: rescan added \(r.added.count) plugin file(s), \(r.changed.count) changed on disk")
            } catch {
                registry.logger.error("SIGHUP: rescan failed: \(error)")
            }
        }
        s.resume()
        source = s
    }
}
