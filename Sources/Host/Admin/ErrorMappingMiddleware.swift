import Hummingbird
import PluginAPI

/// Maps kernel and plugin errors thrown by handlers to API errors.
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
        }
    }
}
