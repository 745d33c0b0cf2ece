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
    let logger: Logger
    /// Largest response body accepted.
    static let maxBodyBytes = 512 * 1024 * 1024
    /// Longest single wait between attempts, whatever Retry-After says.
    let maxBackoff = Duration.seconds(60)

    func handle(op: String, request: [UInt8], session: SessionContext) async throws -> [UInt8] {
        guard op == "request" else { throw HostInfo.noSuchOperation("fetch", op) }
        var reader = FrameReader(request)
        let head: HTTPRequest.Head
        do {
            head = try WireJSON.decode(HTTPRequest.Head.self, from: Array(try reader.next()))
        } catch {
            throw PluginError(.invalid, "fetch.request: malformed request head: \(error)")
        }
        let body = reader.isAtEnd ? [] : Array(try reader.next())
        let response = try await perform(head, body: body, session: session)
        // The body goes from the client's buffer into the frame: one copy, however large the answer.
        var w = FrameWriter(capacity: response.body.readableBytes + 256)
        w.append(try WireJSON.encode(HTTPResponse.Head(status: response.status, headers: response.headers, attempts: response.attempts)))
        w.append(response.body.readableBytesView)
        return w.bytes
    }

    struct Fetched {
        var status: Int
        var headers: [String: String]
        var body: ByteBuffer
        var attempts: Int
    }

    func perform(_ head: HTTPRequest.Head, body: [UInt8], session: SessionContext) async throws -> Fetched {
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
                let collected = try await resp.body.collect(upTo: Self.maxBodyBytes)
                let status = Int(resp.status.code)
                logger.debug("\(head.method) \(shownURL) -> \(status) in \(ContinuousClock.now - started)", metadata: ["plugin": .string(session.plugin)])
                if options.retryOnStatus.contains(status), attempt < attempts {
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
                return Fetched(status: status, headers: headers, body: collected, attempts: attempt)
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
