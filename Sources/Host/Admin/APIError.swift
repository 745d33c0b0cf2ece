import Foundation
import Hummingbird
import PluginAPI

/// Every API error is JSON `{"error": {"code", "message"}}` with the right status; never a stack trace.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    init(_ error: HostError) {
        switch error {
        case .invalid(let m): self.init(.badRequest, error.code, m)
        case .notFound(let m): self.init(.notFound, error.code, m)
        case .conflict(let m): self.init(.conflict, error.code, m)
        case .unavailable(let m): self.init(.serviceUnavailable, error.code, m)
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let payload: JSONValue = ["error": ["code": .string(code), "message": .string(message)]]
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try WireJSON.encode(payload))))
    }
}

/// Maps kernel and plugin errors thrown by handlers to API errors.
struct ErrorMappingMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as HostError {
            throw APIError(e)
        } catch let e as PluginError {
            let status: HTTPResponse.Status =
                switch e.kind {
                case .invalid: .badRequest
                case .notFound: .notFound
                case .config: .unprocessableContent
                case .upstream: .badGateway
                case .unavailable, .cancelled: .serviceUnavailable
                case .internal: .internalServerError
                }
            throw APIError(status, e.kind.rawValue, e.message)
        }
    }
}

/// `Authorization: Bearer <token>`, compared in constant time; 401 says nothing more.
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), AdminToken.matches(String(header.dropFirst(7)), token) else {
            throw APIError(.unauthorized, "unauthorized", "missing or invalid bearer token")
        }
        return try await next(request, context)
    }
}

extension Response {
    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try WireJSON.encode(value))))
    }
}
