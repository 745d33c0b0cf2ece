import Hummingbird
import PluginAPI

/// Maps kernel and plugin errors thrown by handlers to API errors; anything else (a database error) is a 500 with
/// the JSON error body every client expects, and is logged — never a bare 500.
public struct ErrorMappingMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
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
        } catch let e as any HTTPResponseError {
            throw e
        } catch is CancellationError {
            throw APIError(.serviceUnavailable, "cancelled", "the request was cancelled (the host is stopping)")
        } catch {
            context.logger.error("\(request.method.rawValue) \(request.uri.path): \(error)")
            throw APIError(.internalServerError, "internal", "the host failed to answer: \(error)")
        }
    }
}
