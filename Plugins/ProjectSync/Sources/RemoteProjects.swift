import Foundation
import PluginAPI

/// The remote project service (reference §5): bearer token, incremental list by `updated_since` with weak
/// ETags, detail with strong ETags (304 = unchanged), problem+json errors. 429 (with Retry-After) and
/// 5xx are retried by the host; 401 is a configuration error.
struct RemoteProjects {
    let baseURL: String
    let token: String
    let http: HTTPService

    init(config c: [String: JSONValue], http: HTTPService) throws {
        (baseURL, token) = try Self.check(c)
        self.http = http
    }

    /// The base URL and API token of a configuration, checked.
    static func check(_ c: [String: JSONValue]) throws -> (String, String) {
        let base = try c.requiredString("base_url")
        guard let url = URL(string: base), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw PluginError(.config, "base_url: \(base.debugDescription) is not an http(s) URL")
        }
        return (base.hasSuffix("/") ? String(base.dropLast()) : base, try c.requiredString("api_token"))
    }

    static let options = HTTPRequest.Options(timeoutMs: 15_000, maxAttempts: 3, retryOnStatus: [429, 500, 502, 503, 504], initialBackoffMs: 300)

    enum Answer {
        case notModified
        case ok(JSONValue, etag: String?)
    }

    func get(_ pathAndQuery: String, ifNoneMatch: String? = nil, options: HTTPRequest.Options = Self.options) async throws -> Answer {
        var headers = ["authorization": "Bearer \(token)", "accept": "application/json"]
        if let ifNoneMatch { headers["if-none-match"] = ifNoneMatch }
        let r = try await http.get(baseURL + pathAndQuery, headers: headers, options: options)
        switch r.status {
        case 304: return .notModified
        case 200:
            do { return .ok(try JSONValue.parse(r.body), etag: r.headers["etag"]) } catch {
                throw PluginError(.upstream, "\(pathAndQuery): the response is not JSON")
            }
        case 401, 403: throw PluginError(.config, "project service: HTTP \(r.status): the api_token is refused")
        case 404: throw PluginError(.notFound, "project service: \(Self.detail(r) ?? "not found")")
        default: throw PluginError(.upstream, "project service: HTTP \(r.status)\(Self.detail(r).map { ": \($0)" } ?? "")")
        }
    }

    static func detail(_ r: HTTPResponse) -> String? { (try? JSONValue.parse(r.body))?["detail"]?.stringValue }

}
