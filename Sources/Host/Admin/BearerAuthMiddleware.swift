import Hummingbird

/// `Authorization: Bearer <token>`, compared in constant time; 401 says nothing more.
public struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    public init(token: String) { self.token = token }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), AdminToken.matches(String(header.dropFirst(7)), token) else {
            throw APIError(.unauthorized, "unauthorized", "missing or invalid bearer token")
        }
        return try await next(request, context)
    }
}
