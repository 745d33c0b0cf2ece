import HTTPTypes
import Hummingbird

/// Security headers on every response, errors included: no MIME sniffing, no referrer, no framing, and — unless a
/// route set its own (the admin page) — a policy that lets a response load nothing. HSTS when served over TLS.
public struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let fields: HTTPFields
    static var contentSecurityPolicy: String { "default-src 'none'; frame-ancestors 'none'" }

    public init(tls: Bool) {
        var f: HTTPFields = [
            .xContentTypeOptions: "nosniff", HTTPField.Name("referrer-policy")!: "no-referrer", HTTPField.Name("x-frame-options")!: "DENY",
        ]
        if tls { f[.strictTransportSecurity] = "max-age=31536000" }
        fields = f
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers.append(contentsOf: fields)
        if !response.headers.contains(where: { $0.name == .contentSecurityPolicy }) { response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy }
        return response
    }
}
