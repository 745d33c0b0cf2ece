import Foundation
import JWTKit
import PluginAPI

/// Per-project access tokens: HS256 JWTs (jwt-kit) signed with a key generated at first use and kept in
/// the host's store (plugin state). Each token is also a record in `access_tokens` (by `jti`), which is
/// what revocation flips and the clean-up job purges after expiry.
struct AccessTokens {
    struct Payload: JWTPayload {
        var jti: IDClaim
        var sub: SubjectClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim
        /// The instance that issued it (a token of another ProjectSync instance is refused).
        var ins: String

        // Expiry is checked by `verify` below, after the signature, so the two failures stay distinct.
        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    enum Refusal: Error {
        case missing, invalid, expired, revoked, wrongProject, wrongInstance

        var status: Int { self == .wrongProject || self == .wrongInstance ? 403 : 401 }
        var code: String {
            switch self {
            case .missing: "token_missing"
            case .invalid: "token_invalid"
            case .expired: "token_expired"
            case .revoked: "token_revoked"
            case .wrongProject: "token_wrong_project"
            case .wrongInstance: "token_wrong_instance"
            }
        }
        var message: String {
            switch self {
            case .missing: "an access token is required (?token=)"
            case .invalid: "the access token is malformed or its signature is not valid"
            case .expired: "the access token has expired"
            case .revoked: "the access token has been revoked"
            case .wrongProject: "the access token is for another project"
            case .wrongInstance: "the access token was issued by another project service instance"
            }
        }
    }

    let instance: String
    let store: StoreService

    func keys() async throws -> JWTKeyCollection {
        var secret = try await store.state("jwt_key")?.stringValue
        if secret == nil {
            var rng = SystemRandomNumberGenerator()
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
            secret = Data(bytes).base64EncodedString()
            try await store.setState("jwt_key", .string(secret!))
        }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: Data(base64Encoded: secret!)!), digestAlgorithm: .sha256)
        return keys
    }

    func issue(project: String, ttl: TimeInterval, note: String?) async throws -> (token: String, jti: String, expires: Date) {
        let jti = UUID().uuidString.lowercased()
        let now = Date()
        let expires = now.addingTimeInterval(ttl)
        let token = try await keys().sign(Payload(jti: .init(value: jti), sub: .init(value: project), exp: .init(value: expires),
                                                   iat: .init(value: now), ins: instance))
        try await store.upsert("access_tokens", [Record(key: jti, data: [
            "jti": .string(jti), "project_id": .string(project), "expires_at": .string(ProjectSync.iso.format(expires)),
            "created_at": .string(ProjectSync.iso.format(now)), "revoked": false, "note": note.map { .string($0) } ?? .null,
        ])])
        return (token, jti, expires)
    }

    /// Three base64url parts separated by dots (a JWT's shape), whatever their content.
    static func isWellFormed(_ token: String) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && parts.allSatisfy { part in
            !part.isEmpty && part.utf8.allSatisfy { c in
                (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
            }
        }
    }

    /// The token's payload when it grants access to `project`, or the precise reason it does not.
    func verify(_ token: String?, project: String) async throws -> Payload {
        guard let token, !token.isEmpty else { throw Refusal.missing }
        let payload: Payload
        do { payload = try await keys().verify(token, as: Payload.self) } catch { throw Refusal.invalid }
        guard payload.ins == instance else { throw Refusal.wrongInstance }
        guard payload.exp.value > Date() else { throw Refusal.expired }
        guard let record = try await store.get("access_tokens", key: payload.jti.value)?.data, record["revoked"] != true else { throw Refusal.revoked }
        guard payload.sub.value == project else { throw Refusal.wrongProject }
        return payload
    }

    func revoke(_ jti: String) async throws -> Bool {
        guard case .object(var o)? = try await store.get("access_tokens", key: jti)?.data else { return false }
        o["revoked"] = true
        o["revoked_at"] = .string(ProjectSync.iso.format(Date()))
        try await store.upsert("access_tokens", [Record(key: jti, data: .object(o))])
        return true
    }
}
