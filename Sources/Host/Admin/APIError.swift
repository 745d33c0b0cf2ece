import Foundation
import Hummingbird
import PluginAPI

/// Every API error is JSON `{"error": {"code", "message"}}` with the right status; never a stack trace.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    /// Extra response headers (e.g. Retry-After).
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
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
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields,
                        body: .init(byteBuffer: ByteBuffer(bytes: try WireJSON.encode(payload))))
    }
}

extension Response {
    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try WireJSON.encode(value))))
    }
}
