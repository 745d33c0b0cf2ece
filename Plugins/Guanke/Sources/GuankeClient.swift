import Foundation
import PluginAPI

/// The Guanke open API as the plugin uses it: the token (by password or secret, sent raw in
/// `Authorization`, kept in plugin state across runs until it expires), the `{"code","message","data"}`
/// envelope, and one transparent re-login when the platform says the token is invalid (1000001) or expired
/// (1000002).
struct GuankeClient: Sendable {
    static let tokenState = "token"
    /// The platform's tokens last 30 days; renew a day early.
    static let tokenLifetime: TimeInterval = 29 * 86_400

    /// The instance's configuration, checked.
    struct Settings: Sendable {
        let baseURL: String
        let credentials: Credentials
        let pageSize: Int
        let zone: TimeZone

        init(config c: [String: JSONValue]) throws {
            let base = try c.requiredString("base_url")
            guard let url = URL(string: base), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw PluginError(.config, "base_url: \(base.debugDescription) is not an http(s) URL")
            }
            baseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
            if let secret = try c.string("secret"), !secret.isEmpty {
                credentials = .secret(secret)
            } else if let user = try c.string("username"), !user.isEmpty, let password = try c.string("password"), !password.isEmpty {
                credentials = .password(user, password)
            } else {
                throw PluginError(.config, "credentials: set secret, or username and password")
            }
            pageSize = try c.int("page_size") ?? 1000
            // Over 1000 the platform silently returns nothing: refuse it instead of syncing empty days.
            guard (1...1000).contains(pageSize) else { throw PluginError(.config, "page_size must be 1-1000 (the platform returns nothing above 1000)") }
            let zoneName = try c.string("timezone") ?? "Asia/Shanghai"
            guard let z = TimeZone(identifier: zoneName) else { throw PluginError(.config, "timezone: unknown time zone \(zoneName.debugDescription)") }
            zone = z
        }
    }

    enum Credentials: Sendable {
        case password(String, String)
        case secret(String)
    }

    let settings: Settings
    let http: HTTPService
    let store: StoreService
    let log: PluginLog

    var baseURL: String { settings.baseURL }
    var credentials: Credentials { settings.credentials }
    var pageSize: Int { settings.pageSize }
    var zone: TimeZone { settings.zone }

    init(config: [String: JSONValue], http: HTTPService, store: StoreService, log: PluginLog) throws {
        settings = try Settings(config: config)
        self.http = http
        self.store = store
        self.log = log
    }

    static let options = HTTPRequest.Options(timeoutMs: 30_000, maxAttempts: 3, retryOnStatus: [429, 500, 502, 503, 504], initialBackoffMs: 500)

    func login() async throws -> String {
        let url: String
        switch credentials {
        case .password(let user, let password):
            url = baseURL + "/token?" + URLEncoding.query([("username", user), ("password", password)])
        case .secret(let secret):
            url = baseURL + "/token/secret?" + URLEncoding.query([("secret", secret)])
        }
        let data = try await envelope(try await http.get(url, options: Self.options), what: "token")
        guard let token = data["token"]?.stringValue, !token.isEmpty else { throw PluginError(.upstream, "token: the response has no data.token") }
        try await store.setState(Self.tokenState, ["token": .string(token), "expires_at": .double(Date().timeIntervalSince1970 + Self.tokenLifetime)])
        return token
    }

    func token() async throws -> String {
        if let s = try await store.state(Self.tokenState), let t = s["token"]?.stringValue,
           let exp = s["expires_at"]?.doubleValue, exp > Date().timeIntervalSince1970 {
            return t
        }
        return try await login()
    }

    /// One authenticated call; on 1000001/1000002 logs in again once and repeats it.
    func call(_ what: String, _ make: (String) -> HTTPRequest) async throws -> JSONValue {
        var token = try await token()
        for attempt in 0..<2 {
            let response = try await http.send(make(token))
            do {
                return try envelope(response, what: what)
            } catch let e as TokenRejected where attempt == 0 {
                log.info("\(what): token rejected (\(e.code)); logging in again")
                token = try await login()
            }
        }
        throw PluginError(.upstream, "\(what): the platform rejected a fresh token")
    }

    struct TokenRejected: Error { let code: Int64 }

    /// Unwraps the envelope: `code == 200` → `data`; 1000001/1000002 → `TokenRejected`; anything else an
    /// error with the platform's code and message.
    func envelope(_ r: HTTPResponse, what: String) throws -> JSONValue {
        guard r.status == 200 else { throw PluginError(.upstream, "\(what): HTTP \(r.status)") }
        let v: JSONValue
        do { v = try JSONValue.parse(r.body) } catch { throw PluginError(.upstream, "\(what): the response is not JSON: \(r.text.prefix(120).debugDescription)") }
        guard let code = v["code"]?.intValue else { throw PluginError(.upstream, "\(what): the response has no code") }
        if code == 1_000_001 || code == 1_000_002 { throw TokenRejected(code: code) }
        guard code == 200 else {
            let kind: PluginError.Kind = what == "token" ? .config : .upstream
            throw PluginError(kind, "\(what): code \(code): \(v["message"]?.stringValue ?? "no message")")
        }
        return v["data"] ?? .null
    }

    /// One page of `GET /task/cdr/all2` for a whole day.
    func cdrPage(date: String, page: Int) async throws -> JSONValue {
        let u = baseURL + "/task/cdr/all2?" + URLEncoding.query([
            ("page", String(page)), ("pageSize", String(pageSize)), ("startTime", "\(date) 00:00:00"), ("endTime", "\(date) 23:59:59"),
        ])
        return try await call("cdr/all2 \(date) page \(page)") { token in
            HTTPRequest(method: "GET", url: u, headers: ["authorization": token], options: Self.options)
        }
    }

    /// `POST /extension/agent/stat`, task dimension, for one window of at most 7 days.
    func taskStats(from: String, to: String) async throws -> JSONValue {
        let body: JSONValue = ["start_time": .string(from), "end_time": .string(to), "query_type": 20]
        return try await call("agent/stat \(from)..\(to)") { token in
            HTTPRequest(method: "POST", url: baseURL + "/extension/agent/stat",
                        headers: ["authorization": token, "content-type": "application/json"], body: body.jsonBytes, options: Self.options)
        }
    }
}
