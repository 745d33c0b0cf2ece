/// Removes secrets from text before it reaches a log or a response: the known secret values of the
/// instance, and credentials that travel in URLs (WeCom's access_token, robot keys, passwords in userinfo).
public enum SecretMasker {
    public static let mask = "***"

    /// Query parameters whose values are credentials, whatever the upstream.
    static let sensitiveParameters: Set<String> = [
        "access_token", "corpsecret", "secret", "key", "token", "password", "passwd", "signature", "sign",
        "api_key", "apikey", "accesskeysecret",
    ]

    /// A route answer's bytes: text as `redact(_:)` does it; other bytes (a file) with each secret's bytes replaced.
    public static func redact(bytes: [UInt8], secrets: [String] = []) -> [UInt8] {
        if let text = String(validating: bytes, as: UTF8.self) { return Array(redact(text, secrets: secrets).utf8) }
        var out = bytes
        for secret in secrets where secret.utf8.count >= 3 {
            let needle = Array(secret.utf8)
            var result: [UInt8] = []
            result.reserveCapacity(out.count)
            var i = 0
            while i < out.count {
                if out[i] == needle[0], i + needle.count <= out.count, out[i..<i + needle.count].elementsEqual(needle) {
                    result.append(contentsOf: mask.utf8)
                    i += needle.count
                } else {
                    result.append(out[i])
                    i += 1
                }
            }
            out = result
        }
        return out
    }

    public static func redact(_ text: String, secrets: [String] = []) -> String {
        var out = text
        for secret in secrets where secret.count >= 3 {
            out = out.replacingOccurrences(of: secret, with: mask)
        }
        if out.contains("=") { out = redactQueryParameters(out) }
        if out.contains("://") { out = redactUserinfo(out) }
        return out
    }

    /// `name=value` pairs after `?` or `&` whose name is sensitive.
    static func redactQueryParameters(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var rest = Substring(text)
        while let sep = rest.firstIndex(where: { $0 == "?" || $0 == "&" }) {
            result += rest[...sep]
            rest = rest[rest.index(after: sep)...]
            guard let eq = rest.firstIndex(of: "="),
                rest[..<eq].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
            else { continue }
            let name = rest[..<eq].lowercased()
            guard sensitiveParameters.contains(name) else { continue }
            result += rest[...eq] + mask
            let end = rest[eq...].firstIndex(where: { $0 == "&" || $0 == " " || $0 == "\"" || $0 == "'" || $0 == "#" || $0.isNewline }) ?? rest.endIndex
            rest = rest[end...]
        }
        return result + rest
    }

    /// `scheme://user:password@host` → `scheme://user:***@host`.
    static func redactUserinfo(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let r = rest.range(of: "://") {
            result += rest[..<r.upperBound]
            rest = rest[r.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == " " || $0 == "\"" || $0.isNewline }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                result += authority[...colon] + mask + authority[at...]
                rest = rest[authorityEnd...]
            }
        }
        return result + rest
    }
}
