import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PluginAPI

/// HTTP for plugins: per-attempt timeouts, retries with exponential backoff and 0.5–1.0× jitter (honouring
/// Retry-After), per-key rate limits, TLS from AsyncHTTPClient, and URLs masked in every log line.
struct FetchService: HostService {
    let client: HTTPClient
    let limiter = RateLimiter()
    let streams = FetchStreams()
    let logger: Logger
    /// Largest response body accepted.
    static let maxBodyBytes = 512 * 1024 * 1024
    /// Longest single wait between attempts, whatever Retry-After says.
    let maxBackoff = Duration.seconds(60)

    func handle(op: String, request: [UInt8], session: SessionContext) async throws -> [UInt8] {
        if op == "request" || op == "open", let refusal = session.upstreamRefusal { throw PluginError(.unavailable, refusal) }
        switch op {
        case "request": break
        case "open":
            guard session.id != 0 else {
                throw PluginError(.invalid, "fetch.open: only inside a call (a stream ends with the call that opened it)")
            }
        case "read":
            let r = try StreamRequest.decode(request, op: op)
            let max = r.maxBytes ?? FetchStreams.defaultReadBytes  // checked before the stream: a bad request is told so
            guard (1...FetchStreams.maxReadBytes).contains(max) else {
                throw PluginError(.invalid, "fetch.read: max_bytes must be 1-\(FetchStreams.maxReadBytes), not \(max)")
            }
            return try await streams.read(r.stream, maxBytes: max, session: session.id)
        case "close":
            streams.close(try StreamRequest.decode(request, op: op).stream, session: session.id)
            return Array("{}".utf8)
        default: throw HostInfo.noSuchOperation("fetch", op)
        }
        var reader = FrameReader(request)
        let head: HTTPRequest.Head
        do {
            head = try WireJSON.decode(HTTPRequest.Head.self, from: Array(try reader.next()))
        } catch {
            throw PluginError(.invalid, "fetch.request: malformed request head: \(error)")
        }
        let body = reader.isAtEnd ? [] : Array(try reader.next())
        return try await perform(head, body: body, session: session, streamed: op == "open")
    }

    func sessionClosed(_ id: UInt64) { streams.closeAll(session: id) }

    /// fetch.read and fetch.close name their stream.
    struct StreamRequest: Decodable {
        var stream: UInt64
        var maxBytes: Int?
        enum CodingKeys: String, CodingKey { case stream, maxBytes = "max_bytes" }

        static func decode(_ bytes: [UInt8], op: String) throws -> StreamRequest {
            do { return try WireJSON.decode(StreamRequest.self, from: bytes) } catch {
                throw PluginError(.invalid, "fetch.\(op): expected {\"stream\": id\(op == "read" ? ", \"max_bytes\"?: n" : "")}: \(error)")
            }
        }
    }

    /// The answer as the plugin receives it: the head frame, then the body frame, the body written into it as
    /// it arrives (sized from Content-Length when the server sends one): one buffer, no second copy. Streamed
    /// (fetch.open), the head alone with the stream's id; the body stays on the wire until fetch.read.
    func perform(_ head: HTTPRequest.Head, body: [UInt8], session: SessionContext, streamed: Bool = false) async throws -> [UInt8] {
        guard let url = URL(string: head.url), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            throw PluginError(.invalid, "fetch: not an http(s) URL: \(SecretMasker.redact(head.url, secrets: session.secrets))")
        }
        let shownURL = SecretMasker.redact(head.url, secrets: session.secrets)
        let options = head.options
        let attempts = max(1, min(options.maxAttempts, 20))
        var lastError = ""
        for attempt in 1...attempts {
            try Task.checkCancellation()
            if let key = options.rateLimitKey, let rate = options.ratePerSecond {
                try await limiter.acquire(key: "\(session.plugin)/\(key)", ratePerSecond: rate)
            }
            var req = HTTPClientRequest(url: head.url)
            req.method = HTTPMethod(rawValue: head.method.uppercased())
            for (name, value) in head.headers { req.headers.add(name: name, value: value) }
            if !body.isEmpty { req.body = .bytes(ByteBuffer(bytes: body)) }
            let started = ContinuousClock.now
            do {
                let resp = try await client.execute(req, timeout: .milliseconds(Int64(max(1, options.timeoutMs))))
                let status = Int(resp.status.code)
                if options.retryOnStatus.contains(status), attempt < attempts {
                    for try await _ in resp.body {}  // drained: the connection goes back to the pool
                    logger.debug("\(head.method) \(shownURL) -> \(status) in \(ContinuousClock.now - started)", metadata: ["plugin": .string(session.plugin)])
                    lastError = "HTTP \(status)"
                    let retryAfter = resp.headers.first(name: "retry-after").flatMap(Double.init).map { Duration.seconds($0) }
                    try await backoff(attempt: attempt, options: options, retryAfter: retryAfter, url: shownURL, reason: lastError, plugin: session.plugin)
                    continue
                }
                var headers: [String: String] = [:]
                for h in resp.headers {
                    let name = h.name.lowercased()
                    headers[name] = headers[name].map { "\($0), \(h.value)" } ?? h.value
                }
                if streamed {
                    let id = try streams.open(session: session.id, url: shownURL, body: resp.body)
                    logger.debug("\(head.method) \(shownURL) -> \(status) in \(ContinuousClock.now - started), body streamed", metadata: ["plugin": .string(session.plugin)])
                    return try WireJSON.encode(HTTPResponse.Head(status: status, headers: headers, attempts: attempt, stream: id))
                }
                let expected = resp.headers.first(name: "content-length").flatMap(Int.init).map { min($0, Self.maxBodyBytes) } ?? 0
                var answer = FrameWriter(capacity: expected + 512)
                answer.append(try WireJSON.encode(HTTPResponse.Head(status: status, headers: headers, attempts: attempt)))
                try await answer.appendFrame { bytes in
                    var received = 0
                    for try await chunk in resp.body {
                        received += chunk.readableBytes
                        guard received <= Self.maxBodyBytes else {
                            throw PluginError(.upstream, "\(head.method) \(shownURL): the response body is larger than \(Self.maxBodyBytes) bytes")
                        }
                        bytes.append(contentsOf: chunk.readableBytesView)
                    }
                }
                logger.debug("\(head.method) \(shownURL) -> \(status) in \(ContinuousClock.now - started)", metadata: ["plugin": .string(session.plugin)])
                return answer.bytes
            } catch let e as PluginError {
                throw e
            } catch is CancellationError {
                throw PluginError(.cancelled, "\(head.method) \(shownURL) cancelled")
            } catch {
                lastError = SecretMasker.redact(Self.describe(error), secrets: session.secrets)
                if attempt < attempts {
                    try await backoff(attempt: attempt, options: options, retryAfter: nil, url: shownURL, reason: lastError, plugin: session.plugin)
                }
            }
        }
        HostMetrics.upstreamError(plugin: session.plugin)
        throw PluginError(.upstream, "\(head.method) \(shownURL) failed after \(attempts) attempt(s): \(lastError)")
    }

    private func backoff(attempt: Int, options: HTTPRequest.Options, retryAfter: Duration?, url: String, reason: String, plugin: String) async throws {
        let base = Double(max(1, options.initialBackoffMs)) * pow(2, Double(attempt - 1))
        var wait = Duration.milliseconds(Int64(Double.random(in: 0.5...1.0) * base))
        if let retryAfter { wait = max(wait, retryAfter) }
        wait = min(wait, maxBackoff)
        logger.warning("\(reason) from \(url); retry \(attempt + 1)/\(options.maxAttempts) in \(wait)", metadata: ["plugin": .string(plugin)])
        do { try await Task.sleep(for: wait) } catch { throw PluginError(.cancelled, "cancelled while backing off") }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? HTTPClientError {
            if e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout { return "timed out" }
            return "\(e)"
        }
        return String(describing: error)
    }
}
