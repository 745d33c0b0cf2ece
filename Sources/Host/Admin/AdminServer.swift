import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import PluginAPI

/// The admin HTTP API. `GET /healthz` is open; everything under `/api/v1` needs the bearer token.
public struct AdminServer: Sendable {
    public let kernel: Kernel
    public let token: String
    /// Serve HTTPS with this certificate and key (else plain HTTP, e.g. behind a TLS-terminating proxy).
    public let tls: AdminTLS?

    public init(kernel: Kernel, token: String, tls: AdminTLS? = nil) {
        self.kernel = kernel
        self.token = token
        self.tls = tls
    }

    struct RescanView: Codable {
        var added: [PluginView]
        var changed: [String]
    }

    /// The router, and in front of it the hot reads (`AdminResponder`).
    public func responder() -> AdminResponder {
        let (router, hot) = build()
        return AdminResponder(router: router.buildResponder(), hot: hot)
    }

    /// Every route in the router's trie; the hot ones also wrapped for `AdminResponder`.
    func build() -> (Router<AdminRequestContext>, AdminResponder.HotRoutes?) {
        HostMetrics.bootstrap()
        let router = Router(context: AdminRequestContext.self)
        let authority = TokenAuthority(bootstrap: token, store: kernel.store, clock: kernel.instances?.clock ?? HostClocks.system)
        let access = AccessMiddleware(authority: authority)
        router.add(middleware: SecurityHeadersMiddleware(tls: tls != nil))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMappingMiddleware())
        let registry = kernel.registry
        let health = HealthCheck(kernel: kernel, tls: tls != nil)
        router.get("healthz") { _, _ -> Response in
            let report = await health.report()
            return try .json(report, status: report.status == "down" ? .serviceUnavailable : .ok)
        }
        router.get("readyz") { _, _ -> Response in
            let report = await health.report()
            return try .json(report, status: report.ready ? .ok : .serviceUnavailable)
        }
        // The web admin page: static, public (it holds no data; every call it makes needs the token).
        AdminPage.add(to: router)
        // Prometheus text format; behind the token like everything but /healthz.
        let store = kernel.store, clock = kernel.instances?.clock ?? HostClocks.system
        router.group("metrics").add(middleware: access).get { _, _ -> Response in
            // Each instance's health score is read now, so a scrape sees the current one.
            if let store { _ = try await HealthRoutes.all(store: store, now: clock()) }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: HostMetrics.text())))
        }
        router.group("openapi.json").add(middleware: access).get { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.build(plugins: registry.loaded).jsonBytes)))
        }
        let api = router.group("api/v1").add(middleware: access)
        api.get("plugins") { _, _ -> Response in
            try .json(registry.entries.map(PluginView.init))
        }
        api.get("plugins/:name") { _, context -> Response in
            let name = try context.parameters.require("name")
            guard let e = registry.entry(named: name) else { throw HostError.notFound("no plugin named \(name.debugDescription)") }
            return try .json(PluginView(e))
        }
        // How a plugin runs from now on, here and (stored) for every replica's next start: {"isolation": "process" | "in-process"}.
        api.patch("plugins/:name") { request, context -> Response in
            let name = try context.parameters.require("name")
            struct Change: Decodable { var isolation: String }
            let change = try await RequestBody.json(request, as: Change.self, allowedKeys: ["isolation"])
            guard ["process", "in-process"].contains(change.isolation) else { throw HostError.invalid("isolation must be process or in-process") }
            guard registry.entry(named: name)?.isLoaded == true else { throw HostError.notFound("no loaded plugin named \(name.debugDescription)") }
            guard let store = kernel.store else { throw HostError.unavailable("this host has no database to keep the setting in") }
            let entry = try await offPool { try registry.switchIsolation(of: name, toProcess: change.isolation == "process") }
            try await store.setPluginIsolation(name, fileStem: IsolationPolicy.stem(URL(fileURLWithPath: entry.path)), mode: change.isolation, now: Date())
            return try .json(PluginView(entry))
        }
        api.post("plugins/rescan") { _, _ -> Response in
            let result = try await registry.scan()
            try await kernel.store?.recordAudit(action: "plugins.rescan", target: registry.directory.path, before: nil, after: [
                "added": .array(result.added.map { .string($0.name ?? $0.path) }), "changed": .array(result.changed.map { .string($0) }),
            ])
            return try .json(RescanView(added: result.added.map(PluginView.init), changed: result.changed))
        }
        EventRoutes(bus: kernel.events).add(to: api)
        if let store = kernel.store, let scheduler = kernel.scheduler, let manager = kernel.instances {
            ScheduleRoutes(store: store, manager: manager, scheduler: scheduler).add(to: api)
            InstanceRoutes(store: store, registry: registry, manager: manager, progress: kernel.progress).add(to: api)
            let data = DataRoutes(store: store, registry: registry, manager: manager)
            data.add(to: api)
            ExportRoutes(store: store, registry: registry).add(to: api)
            RetentionRoutes(store: store, registry: registry).add(to: api)
            HealthRoutes(store: store, clock: manager.clock).add(to: api)
            AlertRoutes(store: store).add(to: api)
            ReportRoutes(store: store, registry: registry, clock: manager.clock, defaultZone: manager.defaultTimeZone).add(to: api)
            let plugins = PluginRoutes(registry: registry, store: store, authority: authority, clock: manager.clock)
            plugins.add(to: router)
            TokenRoutes(store: store, clock: manager.clock).add(to: api)
            AuditRoutes(store: store).add(to: api)
            if let outbox = kernel.outbox { NotificationRoutes(store: store, registry: registry, outbox: outbox).add(to: api) }
            // The same endpoints behind the same middleware: the router's, then the api group's (access) for the record.
            let hot = AdminResponder.HotRoutes(
                record: router.middlewares.constructResponder(finalResponder: CallbackResponder { request, context in
                    try await access.handle(request, context: context, next: data.readRecord)
                }),
                plugin: router.middlewares.constructResponder(finalResponder: CallbackResponder(callback: plugins.handle)),
                pluginMethods: PluginRoutes.methods)
            return (router, hot)
        }
        return (router, nil)
    }

    /// Serves until the task is cancelled (or a signal stops the service group).
    /// Serves in a task of its own on a free port of `host`; returns once it listens (tests, benchmarks, demo).
    public func start(host: String = "127.0.0.1") async throws -> (port: Int, task: Task<Void, any Error>) {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let task = Task { try await run(host: host, port: 0) { continuation.yield($0) } }
        for await port in stream { return (port, task) }
        throw HostError.unavailable("the admin server did not start")
    }

    public func run(host: String, port: Int, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let app = Application(
            responder: responder(),
            server: try tls.map { try .tls(.http1(), tlsConfiguration: try $0.configuration()) } ?? .http1(),
            configuration: .init(address: .hostname(host, port: port), serverName: "synchost"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: kernel.logger
        )
        try await app.runService()
    }
}
