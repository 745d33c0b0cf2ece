import Crypto
import Foundation
import PluginAPI

/// Aliyun SMS `SendSms` (API 2017-05-25, RPC style, HMAC-SHA1 signature). Success is `Code == "OK"`.
/// SendSms is not idempotent: one HTTP attempt only, and a timeout is recorded as an unknown outcome —
/// the message may or may not have gone out — never retried blindly.
struct AliyunSMSChannel {
    let config: [String: JSONValue]
    let context: InstanceContext

    /// The documented signing (help.aliyun.com/document_detail/28839): sorted, RFC 3986-encoded
    /// parameters; `METHOD&%2F&enc(canonical)`; Base64(HMAC-SHA1(secret + "&", that)).
    enum Signer {
        static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")

        static func encode(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? s }

        static func canonical(_ params: [String: String]) -> String {
            params.filter { $0.key != "Signature" }.sorted { $0.key < $1.key }.map { "\(encode($0.key))=\(encode($0.value))" }.joined(separator: "&")
        }

        static func signature(_ params: [String: String], secret: String, method: String = "POST") -> String {
            let toSign = "\(method)&\(encode("/"))&\(encode(canonical(params)))"
            let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(toSign.utf8), using: SymmetricKey(data: Data((secret + "&").utf8)))
            return Data(mac).base64EncodedString()
        }
    }

    func send(_ message: OutgoingMessage) async throws -> DeliveryReceipt {
        let phones = message.recipients.isEmpty ? config.strings("recipients") : message.recipients
        guard !phones.isEmpty else { throw PluginError(.invalid, "sms_aliyun: no phone numbers (set recipients in the channel or the message)") }
        guard phones.count <= 1000 else { throw PluginError(.invalid, "sms_aliyun: at most 1000 phone numbers per message") }
        let endpoint = (try config.string("base_url")) ?? "https://dysmsapi.aliyuncs.com/"
        let ts = ISO8601DateFormatter()
        ts.formatOptions = [.withInternetDateTime]
        let param: JSONValue = [try config.string("template_param") ?? "content": .string(truncated(message.text, limit: 500).text)]
        var params: [String: String] = [
            "Action": "SendSms", "Version": "2017-05-25", "Format": "JSON", "RegionId": "cn-hangzhou",
            "AccessKeyId": try config.requiredString("access_key_id"), "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
            "SignatureNonce": UUID().uuidString, "Timestamp": ts.string(from: Date()),
            "PhoneNumbers": phones.joined(separator: ","), "SignName": try config.requiredString("sign_name"),
            "TemplateCode": try config.requiredString("template_code"), "TemplateParam": String(decoding: param.jsonBytes, as: UTF8.self),
        ]
        params["Signature"] = Signer.signature(params, secret: try config.requiredString("access_key_secret"))
        let body = params.sorted { $0.key < $1.key }.map { "\(Signer.encode($0.key))=\(Signer.encode($0.value))" }.joined(separator: "&")
        let response: HTTPResponse
        do {
            response = try await context.http.send(HTTPRequest(
                method: "POST", url: endpoint, headers: ["content-type": "application/x-www-form-urlencoded"], body: Array(body.utf8),
                options: .init(timeoutMs: try config.int("timeout_ms") ?? 15_000, maxAttempts: 1, retryOnStatus: [])))
        } catch let e as PluginError where e.message.contains("timed out") {
            return DeliveryReceipt(outcome: "unknown", detail: "SendSms timed out: the SMS may or may not have been sent; not retried (SendSms is not idempotent)")
        }
        let v = try? JSONValue.parse(response.body)
        let code = v?["Code"]?.stringValue ?? "HTTP \(response.status)"
        let text = v?["Message"]?.stringValue ?? ""
        if code == "OK" { return DeliveryReceipt(outcome: "sent", detail: v?["BizId"]?.stringValue.map { "BizId \($0)" }) }
        if ["SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound", "InvalidAccessKeyId", "isv.SMS_SIGNATURE_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL"].contains(code) {
            throw PluginError(.config, "SendSms: \(code): \(text)")
        }
        if ["isv.MOBILE_NUMBER_ILLEGAL", "isv.TEMPLATE_MISSING_PARAMETERS", "isv.INVALID_PARAMETERS", "isv.PARAM_LENGTH_LIMIT"].contains(code) {
            throw PluginError(.invalid, "SendSms: \(code): \(text)")
        }
        throw PluginError(.upstream, "SendSms: \(code): \(text)")
    }
}
