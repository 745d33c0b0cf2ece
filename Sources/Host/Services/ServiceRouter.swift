import Foundation
import Logging
import PluginAPI

/// Dispatches plugins' service calls to the kernel's services, on behalf of the session they name.
public final class ServiceRouter: Sendable {
    public enum Service: String, Sendable, CaseIterable {
        case config, fetch, store, schedule, notify
    }

    public let sessions = SessionTable()
    let services: [Service: any HostService]
    let logger: Logger

    public init(logger: Logger, fetch: any HostService, store: (any HostService)? = nil,
                schedule: (any HostService)? = nil, notify: (any HostService)? = nil) {
        self.logger = logger
        self.services = [
            .config: ConfigService(),
            .fetch: fetch,
            .store: store ?? UnavailableService(name: "store", reason: "this host has no store attached"),
            .schedule: schedule ?? UnavailableService(name: "schedule", reason: "this host has no scheduler attached"),
            .notify: notify ?? UnavailableService(name: "notify", reason: "this host has no outbox attached"),
        ]
    }

    /// Ends a session: later calls naming it are refused, and each service lets go of what it held for it.
    func close(session id: UInt64) {
        sessions.close(id)
        for service in services.values { service.sessionClosed(id) }
    }

    /// Answers one service call; `done` is called exactly once, from a task of the host.
    func handle(_ service: Service, plugin: String, session: UInt64, op: String, request: [UInt8], done: @escaping @Sendable (Int32, [UInt8]) -> Void) {
        guard let context = session == 0 ? SessionContext(plugin: plugin) : sessions.context(session) else {
            let e = PluginError(.invalid, "\(service.rawValue).\(op): session \(session) is not open (the call it belonged to has ended)")
            done(e.status, e.jsonBody)
            return
        }
        guard context.plugin == plugin else {
            let e = PluginError(.invalid, "\(service.rawValue).\(op): session \(session) belongs to another plugin")
            done(e.status, e.jsonBody)
            return
        }
        // An operation this host lacks is "unavailable" whoever asks: a newer plugin adapts to it.
        guard HostInfo.services[service.rawValue]?[op] != nil else {
            let e = HostInfo.noSuchOperation(service.rawValue, op)
            done(e.status, e.jsonBody)
            return
        }
        if let reads = context.reads, !Self.repeatable(service, op) { reads.unrepeatable() }
        let handler = services[service]!
        Task {
            do {
                done(0, try await handler.handle(op: op, request: request, session: context))
            } catch {
                let e = PluginError.wrapping(error)
                done(e.status, e.jsonBody)
            }
        }
    }

    /// Calls whose answer the host can check again later: store reads (re-run) and the instance's config
    /// (its `updated_at`).
    static func repeatable(_ service: Service, _ op: String) -> Bool {
        switch service {
        case .config: true
        case .store: op == "get" || op == "list"
        default: false
        }
    }

    func log(plugin: String, session: UInt64, level: Int32, message: String) {
        let context = session == 0 ? nil : sessions.context(session)
        var metadata: Logger.Metadata = ["plugin": .string(plugin)]
        if let instance = context?.instance?.id { metadata["instance"] = .string(instance) }
        if let run = context?.runID { metadata["run"] = .string(run) }
        let text = SecretMasker.redact(message, secrets: context?.secrets ?? [])
        let lvl = Self.level(level)
        if lvl >= .info {
            context?.tally?.log("\(ISOTime.string(Date()) ?? "") \(lvl) \(text)")
        }
        logger.log(level: lvl, "\(text)", metadata: metadata)
    }

    static func level(_ raw: Int32) -> Logger.Level {
        switch raw {
        case ...0: .trace
        case 1: .debug
        case 2: .info
        case 3: .notice
        case 4: .warning
        case 5: .error
        default: .critical
        }
    }
}
