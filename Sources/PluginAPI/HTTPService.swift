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

    /// Sends the request and returns as soon as the response's head is in; the body is read in pieces with
    /// `HTTPBodyStream.next()` as the plugin consumes it (fetch.open/read, ABI 1.2), so an answer of any size
    /// costs one piece of memory. Retries happen before the head (a retried status never reaches the plugin);
    /// a body that breaks off later fails the read.
    public func stream(_ request: HTTPRequest) async throws -> HTTPBodyStream {
        var w = FrameWriter(capacity: request.body.count + 256)
        w.append(try WireJSON.encode(request.head))
        w.append(request.body)
        let bytes = try await services.connection.call(.fetch, session: services.session, op: "open", request: w.bytes)
        let head = try WireJSON.decode(HTTPResponse.Head.self, from: bytes)
        guard let id = head.stream else { throw PluginError(.internal, "fetch.open answered no stream id") }
        return HTTPBodyStream(head: head, id: id, services: services)
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
        /// fetch.open (1.2): the stream the body is read from.
        public var stream: UInt64?
        public init(status: Int, headers: [String: String], attempts: Int, stream: UInt64? = nil) {
            self.status = status
            self.headers = headers
            self.attempts = attempts
            self.stream = stream
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

/// A response body being read from the host in pieces (see `HTTPService.stream`). Read it from one task.
/// It ends (and the host lets go of it) when read to the end, on `close()`, or when the plugin's call ends.
public final class HTTPBodyStream: Sendable {
    public let status: Int
    public let headers: [String: String]
    public let attempts: Int
    let id: UInt64
    let services: HostServices

    init(head: HTTPResponse.Head, id: UInt64, services: HostServices) {
        status = head.status
        headers = head.headers
        attempts = head.attempts
        self.id = id
        self.services = services
    }

    /// The next bytes of the body (at most `maxBytes`), nil at its end.
    public func next(maxBytes: Int = 1 << 20) async throws -> [UInt8]? {
        let piece = try await services.connection.call(
            .fetch, session: services.session, op: "read", request: Array("{\"stream\":\(id),\"max_bytes\":\(maxBytes)}".utf8))
        return piece.isEmpty ? nil : piece
    }

    /// Abandons the rest of the body.
    public func close() async throws {
        _ = try await services.connection.call(.fetch, session: services.session, op: "close", request: Array("{\"stream\":\(id)}".utf8))
    }
}
