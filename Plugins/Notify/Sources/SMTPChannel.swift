import CCurl
import Foundation
import PluginAPI

/// E-mail through libcurl's SMTP: `smtp://host:587` requires STARTTLS before AUTH, `smtps://host:465` is
/// implicit TLS; AUTH with the configured user; several recipients; UTF-8 subject (RFC 2047) and body
/// (base64). libcurl blocks, so each delivery runs on its own thread, never on Swift's cooperative pool.
struct SMTPChannel {
    struct Settings: Sendable {
        let url: String
        let username: String?
        let password: String?
        let from: String
        let recipients: [String]
        let caFile: String?
        let timeoutMs: Int
        let startTLS: Bool

        init(config c: [String: JSONValue]) throws {
            let raw = try c.requiredString("smtp_url")
            guard let u = URLComponents(string: raw), let scheme = u.scheme, ["smtp", "smtps"].contains(scheme), let host = u.host, !host.isEmpty else {
                throw PluginError(.config, "smtp_url: \(raw.debugDescription) is not smtp://host:port or smtps://host:port")
            }
            startTLS = scheme == "smtp"
            url = "\(scheme)://\(host):\(u.port ?? (scheme == "smtps" ? 465 : 587))"
            username = try c.string("smtp_username")
            password = try c.string("smtp_password")
            from = try c.requiredString("from")
            guard Self.isAddress(from) else { throw PluginError(.config, "from: \(from.debugDescription) is not an e-mail address") }
            recipients = c.strings("recipients")
            for r in recipients where !Self.isAddress(r) { throw PluginError(.config, "recipients: \(r.debugDescription) is not an e-mail address") }
            caFile = try c.string("ca_file")
            timeoutMs = try c.int("timeout_ms") ?? 15_000
        }

        static func isAddress(_ s: String) -> Bool {
            let parts = s.split(separator: "@")
            return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !s.contains(where: { $0 == "<" || $0 == ">" || $0.isWhitespace || $0 == "\r" || $0 == "\n" })
        }
    }

    let settings: Settings

    func send(_ message: OutgoingMessage) async throws -> DeliveryReceipt {
        let to = message.recipients.isEmpty ? settings.recipients : message.recipients
        guard !to.isEmpty else { throw PluginError(.invalid, "email_smtp: no recipients (set recipients in the channel or the message)") }
        for r in to where !Settings.isAddress(r) { throw PluginError(.invalid, "email_smtp: \(r.debugDescription) is not an e-mail address") }
        let mail = Self.compose(message, from: settings.from, to: to)
        let settings = self.settings
        let outcome: Result<Int, PluginError> = await withCheckedContinuation { c in
            Thread.detachNewThread { c.resume(returning: Self.perform(settings, to: to, mail: mail)) }
        }
        let code = try outcome.get()
        return DeliveryReceipt(outcome: "sent", detail: "accepted by \(settings.url) (\(code)) for \(to.count) recipient(s)")
    }

    /// The message: headers with an RFC 2047 UTF-8 subject, a base64 UTF-8 body, CRLF line ends. With an HTML
    /// alternative (ABI 1.5) the body is multipart/alternative; with attachments the whole is multipart/mixed,
    /// each file base64 with its UTF-8 name (RFC 2231).
    static func compose(_ m: OutgoingMessage, from: String, to: [String]) -> [UInt8] {
        let subject = m.subject ?? "synchost notification"
        let date = DateFormatter()
        date.locale = Locale(identifier: "en_US_POSIX")
        date.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let domain = from.split(separator: "@").last.map(String.init) ?? "synchost.local"
        let head = [
            "From: <\(from)>", "To: \(to.map { "<\($0)>" }.joined(separator: ", "))",
            "Subject: =?UTF-8?B?\(Data(subject.utf8).base64EncodedString())?=", "Date: \(date.string(from: Date()))",
            "Message-ID: <\(UUID().uuidString)@\(domain)>", "MIME-Version: 1.0",
        ]
        let text = ["Content-Type: text/\(m.format == "markdown" ? "markdown" : "plain"); charset=UTF-8", "Content-Transfer-Encoding: base64", "",
                    base64(Array(m.text.utf8))]
        var body = text
        if let html = m.html {
            body = multipart("alternative", [text, ["Content-Type: text/html; charset=UTF-8", "Content-Transfer-Encoding: base64", "", base64(Array(html.utf8))]])
        }
        if !m.attachments.isEmpty {
            body = multipart("mixed", [body] + m.attachments.map { a in
                let ascii = String(a.filename.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0.value >= 0x20 ? Character($0) : "_" })
                let encoded = a.filename.utf8.map { b -> String in
                    let c = Character(Unicode.Scalar(b))
                    return b < 0x80 && (c.isLetter || c.isNumber || "-._~".contains(c)) ? String(c) : String(format: "%%%02X", b)
                }.joined()
                return ["Content-Type: \(a.contentType.filter { !$0.isNewline }); name=\"\(ascii)\"",
                        "Content-Disposition: attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)",
                        "Content-Transfer-Encoding: base64", "", base64(a.data)]
            })
        }
        return Array((head + body + [""]).joined(separator: "\r\n").utf8)
    }

    static func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
    }

    /// A multipart entity (its header lines, a blank line, the parts) of parts given as lines.
    static func multipart(_ subtype: String, _ parts: [[String]]) -> [String] {
        let boundary = "=_synchost_" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        var lines = ["Content-Type: multipart/\(subtype); boundary=\"\(boundary)\"", ""]
        for p in parts { lines += ["--\(boundary)"] + p }
        lines += ["--\(boundary)--"]
        return lines
    }

    static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) ; return () }()

    final class Upload {
        let bytes: [UInt8]
        var offset = 0
        init(_ b: [UInt8]) { bytes = b }
    }

    /// One blocking SMTP transaction; the server's last reply code, or why it failed.
    static func perform(_ s: Settings, to: [String], mail: [UInt8]) -> Result<Int, PluginError> {
        _ = globalInit
        guard let curl = curl_easy_init() else { return .failure(PluginError(.internal, "curl_easy_init failed")) }
        defer { curl_easy_cleanup(curl) }
        var recipients: UnsafeMutablePointer<curl_slist>?
        for r in to { recipients = curl_slist_append(recipients, "<\(r)>") }
        defer { curl_slist_free_all(recipients) }
        let upload = Upload(mail)
        let box = Unmanaged.passRetained(upload)
        defer { box.release() }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        _ = sh_curl_set_str(curl, CURLOPT_URL, s.url)
        _ = sh_curl_set_long(curl, CURLOPT_NOSIGNAL, 1)
        _ = sh_curl_set_long(curl, CURLOPT_TIMEOUT_MS, s.timeoutMs)
        _ = sh_curl_set_long(curl, CURLOPT_CONNECTTIMEOUT_MS, min(s.timeoutMs, 10_000))
        // smtp:// — STARTTLS is required, never a silent fall-back to plain text.
        if s.startTLS { _ = sh_curl_set_long(curl, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
        if let ca = s.caFile, !ca.isEmpty { _ = sh_curl_set_str(curl, CURLOPT_CAINFO, ca) }
        if let u = s.username, !u.isEmpty { _ = sh_curl_set_str(curl, CURLOPT_USERNAME, u) }
        if let p = s.password, !p.isEmpty { _ = sh_curl_set_str(curl, CURLOPT_PASSWORD, p) }
        _ = sh_curl_set_str(curl, CURLOPT_MAIL_FROM, "<\(s.from)>")
        _ = sh_curl_set_slist(curl, CURLOPT_MAIL_RCPT, recipients)
        _ = sh_curl_set_long(curl, CURLOPT_UPLOAD, 1)
        _ = sh_curl_set_fn(curl, CURLOPT_READFUNCTION, readCallback)
        _ = sh_curl_set_ptr(curl, CURLOPT_READDATA, box.toOpaque())
        let result: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { buf in
            _ = sh_curl_set_ptr(curl, CURLOPT_ERRORBUFFER, buf.baseAddress)
            let r = curl_easy_perform(curl)
            _ = sh_curl_set_ptr(curl, CURLOPT_ERRORBUFFER, nil)
            return r
        }
        var code = 0
        _ = sh_curl_get_long(curl, CURLINFO_RESPONSE_CODE, &code)
        guard result == CURLE_OK else {
            let buffered = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let detail = buffered.isEmpty ? String(cString: curl_easy_strerror(result)) : buffered
            let text = "SMTP \(s.url): \(detail)\(code > 0 ? " (server reply \(code))" : "")"
            switch result {
            case CURLE_LOGIN_DENIED, CURLE_USE_SSL_FAILED, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_URL_MALFORMAT:
                return .failure(PluginError(.config, text))
            default:
                // 5xx to MAIL/RCPT/DATA: this message will not be accepted as it is.
                return .failure(PluginError((500...599).contains(code) ? .invalid : .upstream, text))
            }
        }
        return .success(code)
    }
}

private let readCallback: sh_curl_io_fn = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let upload = Unmanaged<SMTPChannel.Upload>.fromOpaque(userdata).takeUnretainedValue()
    let n = min(size * count, upload.bytes.count - upload.offset)
    guard n > 0 else { return 0 }
    upload.bytes.withUnsafeBufferPointer { src in
        UnsafeMutableRawPointer(buffer).copyMemory(from: src.baseAddress! + upload.offset, byteCount: n)
    }
    upload.offset += n
    return n
}
