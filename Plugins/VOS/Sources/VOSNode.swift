import Foundation
import PluginAPI

/// One VOS node as the plugin talks to it: its configuration and the quirks of its Web API (reference §1).
struct VOSNode: Sendable {
    let baseURL: String
    let timeoutMs: Int
    let appendJSP: Bool
    let zone: TimeZone
    let pacingMs: Int
    let backfillDays: Int
    let backfillSpacingMs: Int
    let accountFilter: [String]?

    init(config c: [String: JSONValue]) throws {
        let base = try c.requiredString("base_url")
        guard let url = URL(string: base), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw PluginError(.config, "base_url: \(base.debugDescription) is not an http(s) URL")
        }
        baseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
        timeoutMs = try c.int("timeout_ms") ?? 30_000
        appendJSP = try c.bool("append_jsp") ?? false
        let zoneName = try c.string("timezone") ?? "Asia/Shanghai"
        guard let z = TimeZone(identifier: zoneName) else { throw PluginError(.config, "timezone: unknown time zone \(zoneName.debugDescription)") }
        zone = z
        pacingMs = try c.int("cdr_pacing_ms") ?? 2_000
        backfillDays = try c.int("backfill_days") ?? 7
        backfillSpacingMs = try c.int("backfill_spacing_ms") ?? 30_000
        if let v = c["accounts"], let list = v.arrayValue {
            accountFilter = list.compactMap(\.stringValue)
        } else {
            accountFilter = nil
        }
        guard timeoutMs >= 100 else { throw PluginError(.config, "timeout_ms must be at least 100") }
        guard pacingMs >= 0, backfillSpacingMs >= 0 else { throw PluginError(.config, "cdr_pacing_ms and backfill_spacing_ms must not be negative") }
        guard (0...366).contains(backfillDays) else { throw PluginError(.config, "backfill_days must be 0-366") }
    }

    /// Calls one operation and returns the result object, or a precise error: HTTP 403 (allow-list), an
    /// empty body, a body that is not JSON, `retCode` ≠ 0 with the node's `exception` text. Timeouts and
    /// 5xx are retried with backoff by the host; a 403 or a retCode is not (it would not change).
    func call(_ op: String, _ body: JSONValue, http: HTTPService) async throws -> JSONValue {
        let bytes = try await post(op, body, http: http)
        var value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch {
            throw PluginError(.upstream, "\(op): the response is not JSON: \(String(decoding: bytes.prefix(120), as: UTF8.self).debugDescription)")
        }
        // Some nodes wrap the result in a one-element array.
        if case .array(let a) = value {
            guard a.count == 1 else { throw PluginError(.upstream, "\(op): expected one result object, got an array of \(a.count)") }
            value = a[0]
        }
        return try checked(op, value)
    }

    /// The same for a result with one big array (GetCdr's `infoCdrs`: 38 MB for an account's busy day), read as it
    /// arrives: `elements` gets each piece's complete elements as ranges of the bytes it is given (valid during
    /// the call), scanned, not parsed; the retCode is checked when the answer is complete. Memory is one piece
    /// and one element, not the answer.
    func callStreaming(_ op: String, _ body: JSONValue, http: HTTPService, arrayKey key: String,
                       elements: ([UInt8], [Range<Int>]) async throws -> Void) async throws {
        let stream = try await Self.named(op) { try await http.stream(request(op, body)) }
        try await checkStatus(op, stream.status) {
            var text: [UInt8] = []
            while text.count < 200, let piece = try await stream.next(maxBytes: 200) { text += piece }
            return String(decoding: text.prefix(200), as: UTF8.self)
        }
        var scan = JSONArrayStream(arrayKey: key)
        var sawContent = false
        let rest: JSONValue
        do {
            while let piece = try await Self.named(op, { try await stream.next() }) {
                if !sawContent { sawContent = piece.contains(where: { $0 > 0x20 }) }
                let found = try scan.feed(piece)
                if !found.isEmpty { try await elements(scan.buffer, found) }
            }
            guard sawContent else { throw Self.emptyBody(op) }
            rest = try scan.finish()
        } catch let e as PluginError where e.kind == .upstream && e.message.hasPrefix("invalid JSON") {
            var preview = scan.preview
            while preview.utf8.count < 120, let more = try? await stream.next(maxBytes: 120 - preview.utf8.count) {
                preview += String(decoding: more, as: UTF8.self)
            }
            throw PluginError(.upstream, "\(op): the response is not JSON (\(e.message)): \(preview.debugDescription)")
        }
        _ = try checked(op, rest)
    }

    /// POSTs the operation; the body of a 200 that is not empty.
    private func post(_ op: String, _ body: JSONValue, http: HTTPService) async throws -> [UInt8] {
        let response = try await Self.named(op) { try await http.send(request(op, body)) }
        try await checkStatus(op, response.status) { response.text }
        guard response.body.contains(where: { $0 > 0x20 }) else { throw Self.emptyBody(op) }
        return response.body
    }

    /// Every operation is a POST of a JSON body (sent as text/html, as the node expects).
    private func request(_ op: String, _ body: JSONValue) -> HTTPRequest {
        HTTPRequest(
            method: "POST", url: "\(baseURL)/external/server/\(op)\(appendJSP ? ".jsp" : "")", headers: ["content-type": "text/html;charset=UTF-8"],
            body: body.jsonBytes, options: .init(timeoutMs: timeoutMs, maxAttempts: 3, retryOnStatus: [502, 503, 504], initialBackoffMs: 500))
    }

    /// The host's transport errors (timeouts, refused connections) named with the operation.
    static func named<T>(_ op: String, _ call: () async throws -> T) async throws -> T {
        do { return try await call() } catch let e as PluginError { throw PluginError(e.kind, "\(op): \(e.message)") }
    }

    static func emptyBody(_ op: String) -> PluginError {
        PluginError(.upstream, "\(op): the node returned an empty body (VOS does this for a request it could not parse or a server-side exception)")
    }

    /// 200, or what the status means for a VOS node; `text` is the start of the body, for the message.
    private func checkStatus(_ op: String, _ status: Int, text: () async throws -> String) async throws {
        switch status {
        case 200: return
        case 403:
            throw PluginError(.config, "\(op): HTTP 403 from the node: this host's IP is not on the node's Web access-control allow-list (接口管理 → Web 访问控制, /external/server)")
        case 404:
            throw PluginError(.config, "\(op): HTTP 404: no VOS Web API at \(baseURL)/external/server (check base_url and append_jsp)")
        default:
            throw PluginError(.upstream, "\(op): HTTP \(status): \(try await text().prefix(200))")
        }
    }

    /// retCode 0, or the node's code and `exception` text as the error.
    private func checked(_ op: String, _ value: JSONValue) throws -> JSONValue {
        guard case .object = value else { throw PluginError(.upstream, "\(op): expected a JSON object, got \(value.typeName)") }
        guard let code = value["retCode"]?.intValue else { throw PluginError(.upstream, "\(op): the response has no retCode") }
        guard code == 0 else {
            let text = value["exception"]?.stringValue ?? "no exception text"
            throw PluginError(.upstream, "\(op): retCode \(code): \(text)")
        }
        return value
    }

    /// The accounts to sync: the node's list, narrowed by the `accounts` filter.
    func accounts(http: HTTPService) async throws -> [String] {
        let all = try await call("GetAllCustomers", ["type": 0], http: http)["accounts"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard let filter = accountFilter, !filter.isEmpty else { return all }
        let known = Set(all)
        return filter.filter(known.contains)
    }

    // MARK: dates in the node's zone

    var days: CalendarDays { CalendarDays(zone: zone) }

    /// yyyy-MM-dd of `date` in the node's zone.
    func day(_ date: Date) -> String { days.string(date) }

    func day(_ date: Date, minus n: Int) -> String { days.string(date, minus: n) }

    /// Parses yyyy-MM-dd (or yyyyMMdd) into the start of that day in the node's zone.
    func parseDay(_ s: String, what: String) throws -> Date {
        guard let d = days.date(s) else { throw PluginError(.invalid, "\(what): \(s.debugDescription) is not a date (yyyy-MM-dd)") }
        return d
    }

    /// The days from `from` to `to` inclusive, as yyyy-MM-dd.
    func days(from: String, to: String) throws -> [String] {
        let calendar = days.calendar
        let a = try parseDay(from, what: "date")
        let b = try parseDay(to, what: "to")
        guard a <= b else { throw PluginError(.invalid, "to (\(to)) is before date (\(from))") }
        var out: [String] = []
        var d = a
        while d <= b {
            out.append(day(d))
            guard out.count <= 366 else { throw PluginError(.invalid, "a CDR range is at most 366 days") }
            d = calendar.date(byAdding: .day, value: 1, to: d)!
        }
        return out
    }
}
