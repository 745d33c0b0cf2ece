import Crypto
import Foundation
import Hummingbird
import SimulatorKit
import Synchronization

/// Aliyun SMS `SendSms` (2017-05-25, RPC style) as reference §4.1 describes it. Every request's signature is
/// recomputed here from the received parameters with the documented algorithm and compared byte for byte;
/// a mismatch answers `SignatureDoesNotMatch` like the real service. Also: unknown AccessKeyId, stale
/// Timestamp, reused SignatureNonce, illegal phone numbers, and fault knobs (latency for timeouts,
/// business flow control).
public final class AliyunSMSSimulator: Sendable {
    public struct Sent: Sendable, Equatable {
        public var phoneNumbers: [String]
        public var signName: String
        public var templateCode: String
        public var templateParam: String
    }

    public struct Faults: Sendable {
        public var latencyMs = 0
        /// The next n requests answer isv.BUSINESS_LIMIT_CONTROL.
        public var flowControlled = 0
        public init() {}
    }

    public let accessKeyID: String
    public let accessKeySecret: String
    public let server = SimulatorServer(name: "aliyun-sms-sim")
    private let state = Mutex<(sent: [Sent], nonces: Set<String>, faults: Faults, requests: Int, rejected: [String])>(([], [], Faults(), 0, []))

    public init(accessKeyID: String = "LTAIsimKeyId", accessKeySecret: String = "sim/Secret+Key=") {
        self.accessKeyID = accessKeyID
        self.accessKeySecret = accessKeySecret
    }

    public var sent: [Sent] { state.withLock { $0.sent } }
    public var requests: Int { state.withLock { $0.requests } }
    /// Codes of refused requests, in order.
    public var rejected: [String] { state.withLock { $0.rejected } }
    public var faults: Faults {
        get { state.withLock { $0.faults } }
        set { state.withLock { $0.faults = newValue } }
    }

    @discardableResult
    public func start(port: Int = 0) async throws -> String {
        let router = Router()
        router.post("/") { request, _ in try await self.handle(request) }
        try await server.start(router: router, port: port)
        return server.baseURL + "/"
    }

    public func stop() { server.stop() }

    // MARK: the documented signature, implemented independently of the plugin

    static func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(b)))
            default:
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    public static func expectedSignature(_ params: [(String, String)], secret: String, method: String = "POST") -> String {
        let canonical = params.filter { $0.0 != "Signature" }.sorted { $0.0 < $1.0 }
            .map { percentEncode($0.0) + "=" + percentEncode($0.1) }.joined(separator: "&")
        let toSign = method + "&" + percentEncode("/") + "&" + percentEncode(canonical)
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Array(toSign.utf8), using: SymmetricKey(data: Array((secret + "&").utf8)))
        return Data(mac).base64EncodedString()
    }

    static func formDecode(_ s: Substring) -> String {
        (s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding) ?? String(s)
    }

    func reply(_ status: HTTPResponse.Status, _ code: String, _ message: String, extra: [String: String] = [:]) -> Response {
        var o = ["Code": code, "Message": message, "RequestId": UUID().uuidString]
        for (k, v) in extra { o[k] = v }
        if code != "OK" { state.withLock { $0.rejected.append(code) } }
        let data = (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json;charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func handle(_ request: Request) async throws -> Response {
        let raw = String(buffer: try await request.body.collect(upTo: 1 << 20))
        let faults = state.withLock { s -> Faults in
            s.requests += 1
            let f = s.faults
            if s.faults.flowControlled > 0 { s.faults.flowControlled -= 1 }
            return f
        }
        if faults.latencyMs > 0 { try await Task.sleep(for: .milliseconds(faults.latencyMs)) }
        let pairs = raw.split(separator: "&").map { kv -> (String, String) in
            let parts = kv.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (Self.formDecode(parts[0]), parts.count > 1 ? Self.formDecode(parts[1]) : "")
        }
        let p = Dictionary(pairs, uniquingKeysWith: { a, _ in a })
        for k in ["Action", "Version", "AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "Timestamp", "PhoneNumbers", "SignName", "TemplateCode"] where p[k] == nil {
            return reply(.badRequest, "MissingParameter", "\(k) is mandatory for this action.")
        }
        guard p["Action"] == "SendSms", p["Version"] == "2017-05-25" else { return reply(.badRequest, "InvalidAction.NotFound", "Specified api is not found") }
        guard p["AccessKeyId"] == accessKeyID else { return reply(.notFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.") }
        guard p["SignatureMethod"] == "HMAC-SHA1", p["SignatureVersion"] == "1.0" else { return reply(.badRequest, "InvalidSignatureMethod", "unsupported") }
        let expected = Self.expectedSignature(pairs, secret: accessKeySecret)
        guard p["Signature"] == expected else {
            return reply(.badRequest, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is: ...")
        }
        let f = ISO8601DateFormatter()
        guard let ts = p["Timestamp"].flatMap(f.date(from:)), abs(ts.timeIntervalSinceNow) < 900 else {
            return reply(.badRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
        }
        let fresh = state.withLock { $0.nonces.insert(p["SignatureNonce"]!).inserted }
        guard fresh else { return reply(.badRequest, "SignatureNonceUsed", "Specified signature nonce was used already.") }
        if faults.flowControlled > 0 { return reply(.ok, "isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10") }
        let phones = p["PhoneNumbers"]!.split(separator: ",").map(String.init)
        guard phones.allSatisfy({ $0.count == 11 && $0.allSatisfy(\.isNumber) && $0.hasPrefix("1") }) else {
            return reply(.ok, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        }
        state.withLock {
            $0.sent.append(Sent(phoneNumbers: phones, signName: p["SignName"]!, templateCode: p["TemplateCode"]!, templateParam: p["TemplateParam"] ?? ""))
        }
        return reply(.ok, "OK", "OK", extra: ["BizId": "\(Int.random(in: 100_000...999_999))^0"])
    }
}
