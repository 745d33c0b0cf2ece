/// Jobs and routes declared once, each beside its handler: the manifest's `jobs`/`routes` and the dispatch are
/// read from the same list, so a name cannot be declared without a handler or handled without a declaration.
///
///     static let jobTable = JobTable<MyConnector>([
///         Job(JobSpec("sync", description: "…")) { plugin, context in try await plugin.sync(context) },
///     ])
///     static let manifest = PluginManifest(…, jobs: jobTable.specs, …)
///     func run(job: String, context: JobContext) async throws -> RunResult {
///         try await Self.jobTable.run(self, job: job, context: context)
///     }
public struct Job<P: Plugin>: Sendable {
    public let spec: JobSpec
    let handler: @Sendable (P, JobContext) async throws -> RunResult

    public init(_ spec: JobSpec, _ handler: @escaping @Sendable (P, JobContext) async throws -> RunResult) {
        self.spec = spec
        self.handler = handler
    }
}

public struct JobTable<P: Plugin>: Sendable {
    public let jobs: [Job<P>]

    /// Two jobs of one name are a programming error, caught when the table is first used.
    public init(_ jobs: [Job<P>]) {
        precondition(Set(jobs.map(\.spec.name)).count == jobs.count, "a job name is declared twice")
        self.jobs = jobs
    }

    /// For the manifest.
    public var specs: [JobSpec] { jobs.map(\.spec) }

    public func run(_ plugin: P, job: String, context: JobContext) async throws -> RunResult {
        guard let entry = jobs.first(where: { $0.spec.name == job }) else {
            throw PluginError(.notFound, "\(P.manifest.name) has no job \(job)")
        }
        return try await entry.handler(plugin, context)
    }
}

public struct Route<P: Plugin>: Sendable {
    public let spec: RouteSpec
    let handler: @Sendable (P, RouteRequest, RouteContext) async throws -> RouteResponse

    public init(_ spec: RouteSpec, _ handler: @escaping @Sendable (P, RouteRequest, RouteContext) async throws -> RouteResponse) {
        self.spec = spec
        self.handler = handler
    }
}

public struct RouteTable<P: Plugin>: Sendable {
    public let routes: [Route<P>]

    public init(_ routes: [Route<P>]) {
        precondition(Set(routes.map { "\($0.spec.method) \($0.spec.path)" }).count == routes.count, "a route is declared twice")
        self.routes = routes
    }

    /// For the manifest.
    public var specs: [RouteSpec] { routes.map(\.spec) }

    /// The handler of the declared route the host matched (`route.method`, `route.route`: the template).
    public func handle(_ plugin: P, route: RouteRequest, context: RouteContext) async throws -> RouteResponse {
        guard let entry = routes.first(where: { $0.spec.method == route.method && $0.spec.path == route.route }) else {
            throw PluginError(.notFound, "\(P.manifest.name) has no route \(route.method) \(route.route)")
        }
        return try await entry.handler(plugin, route, context)
    }
}
