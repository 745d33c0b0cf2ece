import Foundation
import PluginAPI

/// The WeCom server API as the plugin uses it. Decisions are made on `errcode`, never on `errmsg`:
/// - 40014 / 42001: the access token is invalid or expired → fetch a new one once and repeat the call;
/// - -1 / 45033: busy → retry with exponential backoff (3 times);
/// - 45009: frequency limit → back off for the bucket (first a minute, then an hour) if the run's budget
///   allows, else fail with a clear message;
/// - 40001 / 40013 / 48002 / 60011: configuration or permission → fail at once, naming the code;
/// - 84061: "not external contact" → `NotExternalContact` (the caller treats it as an empty list).
/// The access token is cached in plugin state until shortly before `expires_in`; it travels in the query
/// string, which the host masks in every log line.
struct WeComClient: Sendable {
    static let tokenState = "access_token"

    struct Settings: Sendable {
        let corpID: String
        let corpSecret: String
        let agentID: String?
        let baseURL: String
        let batchSize: Int
        let rateLimitBackoff: Duration
        let runBudget: Duration

        init(config c: [String: JSONValue]) throws {
            corpID = try c.requiredString("corp_id")
            corpSecret = try c.requiredString("corp_secret")
            agentID = try c.string("agent_id")
            let base = try c.string("base_url") ?? "https://qyapi.weixin.qq.com"
            guard let url = URL(string: base), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw PluginError(.config, "base_url: \(base.debugDescription) is not an http(s) URL")
            }
            baseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
            batchSize = try c.int("batch_size") ?? 100
            guard (1...100).contains(batchSize) else { throw PluginError(.config, "batch_size must be 1-100 (userid_list holds at most 100 ids)") }
            let backoff = try c.int("rate_limit_backoff_s") ?? 60
            guard backoff >= 0 else { throw PluginError(.config, "rate_limit_backoff_s must not be negative") }
            rateLimitBackoff = .seconds(backoff)
            let budget = try c.int("run_budget_s") ?? 3_600
            guard budget > 0 else { throw PluginError(.config, "run_budget_s must be positive") }
            runBudget = .seconds(budget)
        }
    }

    struct NotExternalContact: Error {}

    static let meanings: [Int64: String] = [
        40001: "invalid corp_secret", 40013: "invalid corp_id", 48002: "the app may not call this API (add it to 客户联系 可调用接口的应用)",
        60011: "member outside the app's visible range", 45009: "frequency limit", 45033: "concurrency limit", -1: "system busy",
    ]

    let settings: Settings
    let http: HTTPService
    let store: StoreService
    let log: PluginLog
    let deadline: ContinuousClock.Instant

    init(settings: Settings, http: HTTPService, store: StoreService, log: PluginLog) {
        self.settings = settings
        self.http = http
        self.store = store
        self.log = log
        deadline = .now + settings.runBudget
    }

    static let options = HTTPRequest.Options(timeoutMs: 30_000, maxAttempts: 3, retryOnStatus: [429, 500, 502, 503, 504], initialBackoffMs: 300)

    func token(fresh: Bool = false) async throws -> String {
        if !fresh, let s = try await store.state(Self.tokenState), let t = s["token"]?.stringValue,
           let exp = s["expires_at"]?.doubleValue, exp > Date().timeIntervalSince1970 {
            return t
        }
        let url = "\(settings.baseURL)/cgi-bin/gettoken?corpid=\(URLEncoding.component(settings.corpID))&corpsecret=\(URLEncoding.component(settings.corpSecret))"
        let v = try Self.json(try await http.get(url, options: Self.options), "gettoken")
        let code = v["errcode"]?.intValue ?? 0
        guard code == 0, let token = v["access_token"]?.stringValue, !token.isEmpty else {
            let kind: PluginError.Kind = [40001, 40013, 40125, 48002].contains(code) ? .config : .upstream
            throw PluginError(kind, "gettoken: errcode \(code) (\(Self.meanings[code] ?? "see the WeCom error-code list"))")
        }
        // Renew a little before the platform's expiry (or half-way through very short lifetimes).
        let lifetime = Double(v["expires_in"]?.intValue ?? 7200)
        let margin = min(300, lifetime / 2)
        try await store.setState(Self.tokenState, ["token": .string(token), "expires_at": .double(Date().timeIntervalSince1970 + lifetime - margin)])
        return token
    }

    /// One API call with the rules above. `path` starts with /cgi-bin/; `query` excludes the token.
    func call(_ path: String, query: String = "", body: JSONValue? = nil) async throws -> JSONValue {
        var token = try await token()
        var refreshed = false, busy = 0, limited = 0
        while true {
            try Task.checkCancellation()
            let url = "\(settings.baseURL)\(path)?access_token=\(URLEncoding.component(token))\(query.isEmpty ? "" : "&" + query)"
            let response = try await http.send(HTTPRequest(
                method: body == nil ? "GET" : "POST", url: url, headers: body == nil ? [:] : ["content-type": "application/json"],
                body: body?.jsonBytes ?? [], options: Self.options))
            let v = try Self.json(response, path)
            let code = v["errcode"]?.intValue ?? 0
            switch code {
            case 0:
                return v
            case 40014 where !refreshed, 42001 where !refreshed:
                log.info("\(path): access token \(code == 42001 ? "expired" : "invalid"); fetching a new one")
                refreshed = true
                token = try await self.token(fresh: true)
            case -1 where busy < 3, 45033 where busy < 3:
                busy += 1
                try await Task.sleep(for: .milliseconds(200 << busy))
            case 45009:
                // First a minute bucket; hitting it again right after means the hour bucket.
                let wait = limited == 0 ? settings.rateLimitBackoff : settings.rateLimitBackoff * 60
                guard ContinuousClock.now + wait < deadline else {
                    throw PluginError(.upstream, "\(path): errcode 45009 (frequency limit): backing off \(wait) would exceed the run budget (run_budget_s); the next run continues")
                }
                log.warning("\(path): errcode 45009 (frequency limit); backing off \(wait)")
                limited += 1
                try await Task.sleep(for: wait)
            case 84061:
                throw NotExternalContact()
            case 40001, 40013, 48002, 60011:
                throw PluginError(.config, "\(path): errcode \(code) (\(Self.meanings[code]!)); not retried")
            default:
                let what = Self.meanings[code].map { " (\($0))" } ?? ""
                throw PluginError(.upstream, "\(path): errcode \(code)\(what)\(busy > 0 ? " after \(busy) retries" : "")")
            }
        }
    }

    static func json(_ r: HTTPResponse, _ what: String) throws -> JSONValue {
        guard r.status == 200 else { throw PluginError(.upstream, "\(what): HTTP \(r.status)") }
        do { return try JSONValue.parse(r.body) } catch { throw PluginError(.upstream, "\(what): the response is not JSON") }
    }
}
