import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// Who a bearer token is: the bootstrap admin token (compared in constant time), or a named token looked up by its
/// SHA-256 (a revoked one is refused at once, in this host and in any other sharing the database). Failed
/// attempts are limited per client address.
public final class TokenAuthority: Sendable {
    let bootstrap: [UInt8]
    let store: (any HostDatabase)?
    let limiter: FailedSignInLimiter
    let clock: HostClock
    /// When each named token's last use was written (written at most once a minute per token).
    private let touched = Mutex<[String: Date]>([:])

    public init(bootstrap: String, store: (any HostDatabase)?, limiter: FailedSignInLimiter = FailedSignInLimiter(), clock: @escaping HostClock = HostClocks.system) {
        self.bootstrap = Array(bootstrap.utf8)
        self.store = store
        self.limiter = limiter
        self.clock = clock
    }

    public func identify(bearer: String) async throws -> Identity? {
        if AdminToken.matches(bearer.utf8, bootstrap) { return .bootstrap }
        guard bearer.hasPrefix(APIToken.prefix), let store else { return nil }
        guard let token = try await store.token(hash: APIToken.hash(of: bearer)), token.revokedAt == nil else { return nil }
        touch(token, store: store)
        return Identity(name: token.name, role: token.role)
    }

    /// The client a request comes from: its peer, or — when the peer is a reverse proxy on this machine — the
    /// address that proxy appended to `X-Forwarded-For` (the last one; earlier ones are the client's own claims).
    static func client(peer: String, _ request: Request) -> String {
        guard peer == "127.0.0.1" || peer == "::1", let forwarded = request.headers[forwardedFor],
              let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty else { return peer }
        return last
    }
    static let forwardedFor = HTTPField.Name("x-forwarded-for")!

    /// The identity of the request's bearer token; 401 without a valid one, 429 for an address that failed too often.
    /// `peer` is read only when it matters: some address has failed lately, or this request fails.
    func authenticate(_ request: Request, peer: () -> String) async throws -> Identity {
        var address: String?
        func client() -> String {
            if let address { return address }
            let a = Self.client(peer: peer(), request)
            address = a
            return a
        }
        if limiter.isCounting {
            let now = clock()
            if let until = limiter.refusedUntil(client(), now: now) {
                let seconds = max(1, Int(until.timeIntervalSince(now).rounded(.up)))
                throw APIError(.tooManyRequests, "too_many_failures", "too many failed sign-ins from \(client()): try again in \(seconds) s",
                               headers: [.retryAfter: String(seconds)])
            }
        }
        // The first Authorization field (the subscript would join every one into a new string).
        let header = request.headers.first { $0.name == .authorization }?.value ?? ""
        guard header.hasPrefix("Bearer ") else { throw APIError(.unauthorized, "unauthorized", "missing or invalid bearer token") }
        guard let identity = try await identify(bearer: String(header.utf8.dropFirst(7))!) else {
            // A token was presented and was wrong: a guess, counted.
            limiter.failed(client(), now: clock())
            throw APIError(.unauthorized, "unauthorized", "missing or invalid bearer token")
        }
        return identity
    }

    /// 403 unless the identity's role may call `method path` (`AccessPolicy`).
    func authorize(_ identity: Identity, method: HTTPRequest.Method, path: String) throws {
        if identity.role == .admin { return }
        let needed = AccessPolicy.required(method: method, path: path)
        guard identity.role >= needed else {
            throw APIError(.forbidden, "forbidden", "token \(identity.name) (\(identity.role.rawValue)) may not \(method.rawValue) \(path): that needs \(needed.rawValue)")
        }
    }

    private func touch(_ token: APIToken, store: any HostDatabase) {
        let now = clock()
        let due = touched.withLock { t -> Bool in
            if let last = t[token.id], now.timeIntervalSince(last) < 60 { return false }
            t[token.id] = now
            return true
        }
        if due { Task { try? await store.touchToken(id: token.id, now: now) } }
    }
}
