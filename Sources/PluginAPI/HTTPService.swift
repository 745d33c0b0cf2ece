import Foundation

/// HTTP through the host: its timeouts, retries with backoff, per-key rate limits, TLS and URL masking in
/// logs. Wire format of the "request" op: frame 1 = `HTTPRequest.Head` JSON, frame 2 = body; the response is
/// frame 1 = `HTTPResponse.Head` JSON, frame 2 = body.
public struct HTTPService: Sendable {
    let services: HostServices

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var w = FrameWriter(capacity: request.body.count + 256)
        w.append(try WireJSON.encode(request.head))
        w.append(request.body)
        var bytes = try await services.connection.call(.fetch, session: services.session, op: "request", request: w.bytes)
        var r = FrameReader(bytes)
        let head = try WireJSON.decode(HTTPResponse.Head.self, from: Array(try r.next()))
        let bodyAt = r.offset
        r = FrameReader([])  // let go of the buffer so the body can be taken out of it in place
        let body = try FrameReader.lastFrame(of: &bytes, from: bodyAt)
        return HTTPResponse(status: head.status, headers: head.headers, body: body, attempts: head.attempts)
    }

    /// POSTs a JSON body and returns the response (any status).
    public func postJSON<T: Encodable>(_ url: String, _ body: T, options: HTTPRequest.Options = .init()) async throws -> HTTPResponse {
        try await send(HTTPRequest(method: "POST", url: url, headers: ["content-type": "application/json"],
                                   body: try WireJSON.encode(body), options: options))
    }

    public func get(_ url: String, headers: [String: String] = [:], options: HTTPRequest.Options = .init()) async throws -> HTTPResponse {
        try await send(HTTPRequest(method: "GET", url: url, headers: headers, options: options))
    }
}

public struct HTTPRequest: Sendable {
    public struct Options: Sendable, Codable, Equatable {
        /// Per attempt.
        public var timeoutMs: Int
        /// 1 = no retry. Network errors, timeouts and `retryOnStatus` are retried with exponential backoff and jitter.
        public var maxAttempts: Int
        public var retryOnStatus: [Int]
        public var initialBackoffMs: Int
        /// Requests sharing a key share a token bucket of `ratePerSecond`.
        public var rateLimitKey: String?
        public var ratePerSecond: Double?

        public init(
            timeoutMs: Int = 30_000, maxAttempts: Int = 3, retryOnStatus: [Int] = [429, 502, 503, 504],
            initialBackoffMs: Int = 200, rateLimitKey: String? = nil, ratePerSecond: Double? = nil
        ) {
            self.timeoutMs = timeoutMs
            self.maxAttempts = maxAttempts
            self.retryOnStatus = retryOnStatus
            self.initialBackoffMs = initialBackoffMs
            self.rateLimitKey = rateLimitKey
            self.ratePerSecond = ratePerSecond
        }

        /// Every option may be left out; the defaults are `init`'s (documented in synchost_plugin.h).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Options()
            timeoutMs = try c.decodeIfPresent(Int.self, forKey: .timeoutMs) ?? d.timeoutMs
            maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
            retryOnStatus = try c.decodeIfPresent([Int].self, forKey: .retryOnStatus) ?? d.retryOnStatus
            initialBackoffMs = try c.decodeIfPresent(Int.self, forKey: .initialBackoffMs) ?? d.initialBackoffMs
            rateLimitKey = try c.decodeIfPresent(String.self, forKey: .rateLimitKey)
            ratePerSecond = try c.decodeIfPresent(Double.self, forKey: .ratePerSecond)
        }

        enum CodingKeys: String, CodingKey {
            case timeoutMs = "timeout_ms"
            case maxAttempts = "max_attempts"
            case retryOnStatus = "retry_on_status"
            case initialBackoffMs = "initial_backoff_ms"
            case rateLimitKey = "rate_limit_key"
            case ratePerSecond = "rate_per_second"
        }
    }

    public struct Head: Sendable, Codable, Equatable {
        public var method: String
        public var url: String
        public var headers: [String: String]
        public var options: Options

        public init(method: String, url: String, headers: [String: String] = [:], options: Options = .init()) {
            self.method = method
            self.url = url
            self.headers = headers
            self.options = options
        }

        /// Only `url` is required: `method` defaults to GET, `headers` to none, `options` to their defaults.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            url = try c.decode(String.self, forKey: .url)
            method = try c.decodeIfPresent(String.self, forKey: .method) ?? "GET"
            headers = try c.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
            options = try c.decodeIfPresent(Options.self, forKey: .options) ?? Options()
        }

        enum CodingKeys: String, CodingKey { case method, url, headers, options }
    }

    public var method: String
    public var url: String
    public var headers: [String: String]
    public var body: [UInt8]
    public var options: Options

    public init(method: String = "GET", url: String, headers: [String: String] = [:], body: [UInt8] = [], options: Options = .init()) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.options = options
    }

    public var head: Head { Head(method: method, url: url, headers: headers, options: options) }
}

public struct HTTPResponse: Sendable {
    public struct Head: Sendable, Codable, Equatable {
        public var status: Int
        /// Lower-cased names; repeated headers joined with ", ".
        public var headers: [String: String]
        public var attempts: Int
        public init(status: Int, headers: [String: String], attempts: Int) {
            self.status = status
            self.headers = headers
            self.attempts = attempts
        }
    }

    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
    /// How many attempts the host made (1 = no retry).
    public var attempts: Int

    public init(status: Int, headers: [String: String], body: [UInt8], attempts: Int = 1) {
        self.status = status
        self.headers = headers
        self.body = body
        self.attempts = attempts
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try WireJSON.decode(type, from: body)
        } catch {
            throw PluginError(.upstream, "HTTP \(status): response is not the expected JSON (\(error)); body starts \(text.prefix(120).debugDescription)")
        }
    }
}
