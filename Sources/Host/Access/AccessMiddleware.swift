import Hummingbird

/// The admin API's gate: authenticates the bearer token (`TokenAuthority`), checks its role against the route
/// (`AccessPolicy`), and runs a change with its identity as the audit log's actor.
public struct AccessMiddleware: RouterMiddleware {
    public typealias Context = AdminRequestContext
    let authority: TokenAuthority

    public init(authority: TokenAuthority) { self.authority = authority }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let identity = try await authority.authenticate(request, peer: { context.clientAddress })
        try authority.authorize(identity, method: request.method, path: request.uri.path)
        var context = context
        context.identity = identity
        if request.method == .get || request.method == .head { return try await next(request, context) }
        let address = TokenAuthority.client(peer: context.clientAddress, request)
        return try await AuditActor.$current.withValue(AuditActor(identity: identity, address: address)) { try await next(request, context) }
    }
}
