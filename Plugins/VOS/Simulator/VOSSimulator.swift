import Foundation
import Hummingbird
import SimulatorKit
import Synchronization

/// A VOS3000 node's "external" Web API as the real one behaves (reference §1): POST-only JSON, always HTTP 200
/// with `text/html`, results in `retCode`, an empty body for a malformed request, paths with or without
/// `.jsp`. Data is deterministic from the seed: customers, phones whose online state churns with
/// `advance()`, and CDRs per account and day at a configurable daily volume.
public final class VOSSimulator: Sendable {
    public struct Data: Sendable {
        public var seed: UInt64 = 1
        public var customers = 20
        public var phones = 50
        /// CDRs per day across all accounts (0 to millions).
        public var cdrsPerDay = 200
        /// Every n-th CDR has no flowNo (0 = never): the client must fall back to a content hash.
        public var missingFlowNoEvery = 0
        public var timeZone = TimeZone(identifier: "Asia/Shanghai")!
        public init() {}
    }

    /// Faults on demand. Every knob is off by default.
    public struct Faults: Sendable, Codable {
        /// Delay before answering, in milliseconds (applies to the operations in `latencyOps`, all when empty).
        public var latencyMs = 0
        public var latencyOps: [String] = []
        /// Every response is an empty body (the JSP's answer to a Java exception).
        public var emptyBody = false
        /// Every response is this non-zero retCode with `exception` text.
        public var retCode: Int?
        /// Responses come wrapped in a one-element JSON array.
        public var wrapArray = false
        /// The caller is not on the Web access-control allow-list: HTTP 403 with an HTML page.
        public var forbidden = false
        public init() {}

        enum CodingKeys: String, CodingKey {
            case latencyMs = "latency_ms", latencyOps = "latency_ops", emptyBody = "empty_body", retCode = "ret_code"
            case wrapArray = "wrap_array", forbidden
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            latencyMs = try c.decodeIfPresent(Int.self, forKey: .latencyMs) ?? 0
            latencyOps = try c.decodeIfPresent([String].self, forKey: .latencyOps) ?? []
            emptyBody = try c.decodeIfPresent(Bool.self, forKey: .emptyBody) ?? false
            retCode = try c.decodeIfPresent(Int.self, forKey: .retCode)
            wrapArray = try c.decodeIfPresent(Bool.self, forKey: .wrapArray) ?? false
            forbidden = try c.decodeIfPresent(Bool.self, forKey: .forbidden) ?? false
        }
    }

    public let data: Data
    public let server = SimulatorServer(name: "vos-sim")
    public let requests = RequestCounter()
    private let faultState = Mutex(Faults())
    private let generation = Mutex(0)
    private let opCounts = Mutex<[String: Int]>([:])
    /// Operation → how many more of its requests pass before one fails (`failRequest(op:in:)`).
    private let opFailures = Mutex<[String: Int]>([:])
    public let accounts: [String]
    /// GetCdr answers rendered ahead (`prerender(day:)`), keyed by account and day: served as they are, so a
    /// benchmark measures the client and not the simulator's rendering.
    private let rendered = Mutex<[String: ByteBuffer]>([:])

    public init(_ data: Data = Data()) {
        self.data = data
        // Some account ids are Chinese, as on real nodes.
        accounts = (0..<data.customers).map { i in i % 7 == 3 ? "百融消金\(i)" : String(10001 + i) }
    }

    public var faults: Faults {
        get { faultState.withLock { $0 } }
        set { faultState.withLock { $0 = newValue } }
    }

    /// Makes the k-th request from now fail with an empty body (1 = the next request).
    public func failRequest(in k: Int) { requests.failIn(k) }

    /// Fails the k-th request of one operation from now (1 = its next one) with an empty body: unlike
    /// `failRequest(in:)`, a retry of another operation in between cannot move the failure onto it.
    public func failRequest(op: String, in k: Int) { opFailures.withLock { $0[op] = k } }

    /// Moves time on: balances change and phones go on and off line.
    public func advance() { generation.withLock { $0 += 1 } }

    public func count(of op: String) -> Int { opCounts.withLock { $0[op] ?? 0 } }

    /// Renders every account's GetCdr answer for one day (`yyyyMMdd`) now; later single-account requests for
    /// that day get the same bytes without rendering them again.
    public func prerender(day: String) throws {
        for account in accounts {
            let answer = try result(op: "GetCdr", body: ["accounts": [account], "beginTime": day, "endTime": day])
            rendered.withLock { $0[Self.renderedKey(account, day, day)] = ByteBuffer(string: answer) }
        }
    }

    static func renderedKey(_ account: String, _ begin: String, _ end: String) -> String { "\(account)|\(begin)|\(end)" }

    @discardableResult
    public func start(port: Int = 0) async throws -> String {
        try await server.start(router: router(), port: port)
        return server.baseURL
    }

    public func stop() { server.stop() }

    // MARK: data

    public func phoneE164(_ i: Int) -> String { "8" + String(1000 + i) }

    public func isOnline(phone i: Int) -> Bool {
        SimRandom.mix(data.seed ^ 0x9000, UInt64(i) &+ UInt64(generation.withLock { $0 }) &* 7919) % 4 != 0
    }

    func customer(_ i: Int) -> [String: Any] {
        let g = generation.withLock { $0 }
        let r = SimRandom.mix(data.seed, UInt64(i))
        return [
            "account": accounts[i], "name": "客户\(i)", "money": Double(r % 100_000) / 100 + Double(g) * 1.5,
            "limitMoney": Double((r >> 20) % 5) * 100, "feeRateGroup": "default", "type": 0, "lockType": Int((r >> 8) % 10 == 0 ? 1 : 0),
            "agentAccount": i % 5 == 0 ? "" : "agent\(i % 5)", "phoneBookLimit": 0, "canceled": false,
            "startTime": 1_700_000_000_000 + Int(r % 1_000_000), "validTime": 0, "todayConsumption": Double((r >> 30) % 1000) / 10,
            "ctdBillingType": 0, "category": i % 5 == 0 ? 1 : 0, "bindedE164s": [String](), "memo": "",
            "infoCustomerAdditional": ["linkMan": "联系人\(i)", "telephone": "", "email": "", "companyName": "公司\(i)"],
        ]
    }

    func phoneOnline(_ i: Int) -> [String: Any] {
        let r = SimRandom.mix(data.seed ^ 0x5151, UInt64(i))
        let g = generation.withLock { $0 }
        return [
            "e164": phoneE164(i), "currentCall": Int(r % 3), "remoteIp": "10.\(r % 250).\((r >> 8) % 250).\((r >> 16) % 250)",
            "localIp": "192.168.0.10", "registerTime": 1_760_000_000_000 + Int(r % 86_400_000) + g * 60_000,
            "updateTime": 1_760_000_000_000 + Int(r % 86_400_000) + g * 60_000 + 1000, "protocol": 1, "cryptoType": 0,
            "productId": "FreeSWITCH-mod_sofia",
        ]
    }

    /// The first millisecond of a yyyyMMdd day in the node's zone.
    func dayStart(_ day: String) -> (ms: Int64, number: Int64)? {
        guard day.count == 8, let y = Int(day.prefix(4)), let m = Int(day.dropFirst(4).prefix(2)), let d = Int(day.suffix(2)) else { return nil }
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = data.timeZone
        guard let date = cal.date(from: DateComponents(year: y, month: m, day: d)),
              cal.component(.month, from: date) == m else { return nil }
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded())
        return (ms, ms / 86_400_000)
    }

    /// How many CDRs an account has on a day (the day's volume spread over the accounts).
    public func cdrCount(account index: Int) -> Int {
        let n = accounts.count, c = data.cdrsPerDay
        return c / n + (index < c % n ? 1 : 0)
    }

    /// The CDRs of one account on one day, appended to `out` as JSON objects separated by commas.
    func appendCDRs(account a: Int, day: (ms: Int64, number: Int64), to out: inout String, first: inout Bool) {
        let n = accounts.count, c = data.cdrsPerDay
        guard c > 0 else { return }
        let account = accounts[a]
        var i = a
        while i < c {
            let flow = (day.number - 19_000) * 10_000_000 + Int64(i)
            let r = SimRandom.mix(data.seed, UInt64(flow))
            let start = day.ms + Int64(i) * 86_000_000 / Int64(c) + Int64(r % 1000)
            let hold = Int(r % 5 == 0 ? 0 : (r >> 8) % 600)
            let fee = Double(hold / 60 + (hold % 60 > 0 ? 1 : 0)) * 0.05
            if !first { out += "," }
            first = false
            out += "{"
            if data.missingFlowNoEvery == 0 || i % data.missingFlowNoEvery != 0 { out += "\"flowNo\":\(flow)," }
            out += """
                "account":"\(account)","accountName":"客户\(a)","callerE164":"2025\(100000 + Int(r % 900000))","callerAccessE164":"2025\(100000 + Int(r % 900000))",\
                "callerToGatewayE164":"9071\(Int((r >> 4) % 10000))","callerGateway":"\(account)网关","callerip":"120.133.80.\(Int(r % 250))",\
                "callerProductId":"FreeSWITCH-mod_sofia","calleeE164":"2221\(13_000_000_000 + Int((r >> 12) % 999_999_999))",\
                "calleeAccessE164":"\(13_000_000_000 + Int((r >> 12) % 999_999_999))","calleeToGatewayE164":"\(13_000_000_000 + Int((r >> 12) % 999_999_999))",\
                "calleeGateway":"落地\(Int(r % 4))","calleeip":"113.219.238.\(Int((r >> 3) % 250))","calleeProductId":"",\
                "start":\(start),"stop":\(start + Int64(hold) * 1000),"holdTime":\(hold),"feeTime":\(hold),"fee":\(fee),"feePrefix":"2",\
                "suiteFee":0.0,"suiteFeeTime":0,"agentAccount":"","agentName":"","agentFee":0.0,"agentFeeTime":0,"agentFeePrefix":"",\
                "agentSuiteFee":0.0,"agentSuiteFeeTime":0,"callLevel":4,"endDirection":\(Int(r % 3)),"endReason":\(hold == 0 ? -69 : 503),\
                "calleeBilling":0,"billingMode":1}
                """
            i += n
        }
    }

    // MARK: HTTP

    struct Failure: Error {
        let code: Int
        let text: String
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("external/server/:op") { request, context -> Response in
            let op = try context.parameters.require("op")
            return try await self.answer(op: op.hasSuffix(".jsp") ? String(op.dropLast(4)) : op, request: request)
        }
        // Control surface for the demo and manual testing (not part of VOS).
        router.put("_sim/faults") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 16)
            self.faults = try JSONDecoder().decode(Faults.self, from: Foundation.Data(buffer: body))
            return Response(status: .noContent)
        }
        router.post("_sim/advance") { _, _ -> Response in
            self.advance()
            return Response(status: .noContent)
        }
        return router
    }

    func answer(op: String, request: Request) async throws -> Response {
        var (_, failThis) = requests.next()
        opCounts.withLock { $0[op, default: 0] += 1 }
        failThis = opFailures.withLock { f in
            guard let k = f[op] else { return false }
            if k <= 1 { f[op] = nil; return true }
            f[op] = k - 1
            return false
        } || failThis
        let f = faults
        if f.latencyMs > 0, f.latencyOps.isEmpty || f.latencyOps.contains(op) {
            try await Task.sleep(for: .milliseconds(f.latencyMs))
        }
        if f.forbidden {
            return Response(status: .forbidden, headers: [.contentType: "text/html;charset=UTF-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "<html><body><h1>403 Forbidden</h1><p>IP address not allowed</p></body></html>")))
        }
        let raw = try await request.body.collect(upTo: 1 << 20)
        if f.emptyBody || failThis { return text("") }
        if let code = f.retCode { return envelope("{\"retCode\":\(code),\"exception\":\"Simulated failure \(code)\"}", wrap: f.wrapArray) }
        guard let body = try? JSONSerialization.jsonObject(with: Foundation.Data(buffer: raw)) as? [String: Any] else {
            return text("")  // the JSP returns nothing for a body it cannot parse
        }
        if op == "GetCdr", !f.wrapArray, let wanted = body["accounts"] as? [String], wanted.count == 1,
           let b = body["beginTime"] as? String, let e = body["endTime"] as? String,
           let ready = rendered.withLock({ $0[Self.renderedKey(wanted[0], b, e)] }) {
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ready))
        }
        do {
            return envelope(try result(op: op, body: body), wrap: f.wrapArray)
        } catch let e as Failure {
            return envelope("{\"retCode\":\(e.code),\"exception\":\(Self.quote(e.text))}", wrap: f.wrapArray)
        }
    }

    func result(op: String, body: [String: Any]) throws -> String {
        switch op {
        case "GetAllCustomers":
            if (body["type"] as? Int) == 1 {
                let briefs = accounts.indices.map { i -> [String: Any] in
                    let c = customer(i)
                    return ["account": accounts[i], "money": c["money"]!, "limitMoney": c["limitMoney"]!]
                }
                return try Self.json(["retCode": 0, "infoCustomerBriefs": briefs])
            }
            return try Self.json(["retCode": 0, "accounts": accounts])
        case "GetCustomer":
            guard let wanted = body["accounts"] as? [String], !wanted.isEmpty else {
                throw Failure(code: -10003, text: "accounts, e164s or filterAgentAccount is required")
            }
            let index = Dictionary(uniqueKeysWithValues: accounts.enumerated().map { ($1, $0) })
            var found: [[String: Any]] = []
            for a in wanted {
                guard let i = index[a] else { throw Failure(code: -10007, text: "Not found, operation failed.") }
                found.append(customer(i))
            }
            return try Self.json(["retCode": 0, "infoCustomers": found])
        case "GetAllPhoneOnline":
            return try Self.json(["retCode": 0, "e164s": (0..<data.phones).filter(isOnline).map(phoneE164)])
        case "GetPhoneOnline":
            guard let wanted = body["e164s"] as? [String] else { throw Failure(code: -10003, text: "e164s is required") }
            let online = wanted.compactMap { e -> [String: Any]? in
                guard e.hasPrefix("8"), let n = Int(e.dropFirst()), n >= 1000, n - 1000 < data.phones, isOnline(phone: n - 1000) else { return nil }
                return phoneOnline(n - 1000)
            }
            return try Self.json(["retCode": 0, "infoPhoneOnlines": online])
        case "GetCdr":
            guard let wanted = body["accounts"] as? [String], !wanted.isEmpty else { throw Failure(code: -10003, text: "accounts is required") }
            guard let b = body["beginTime"] as? String, let e = body["endTime"] as? String,
                  let begin = dayStart(b), let end = dayStart(e), begin.number <= end.number else {
                throw Failure(code: -10010, text: "beginTime/endTime must be yyyyMMdd")
            }
            let index = Dictionary(uniqueKeysWithValues: accounts.enumerated().map { ($1, $0) })
            let rows = try wanted.map { a -> Int in
                guard let i = index[a] else { throw Failure(code: -10007, text: "Not found, operation failed.") }
                return i
            }
            var out = "{\"retCode\":0,\"infoCdrs\":["
            out.reserveCapacity(rows.count * cdrCount(account: 0) * 1000 + 64)
            var first = true
            var day = begin
            while day.number <= end.number {
                for a in rows { appendCDRs(account: a, day: day, to: &out, first: &first) }
                day = (day.ms + 86_400_000, day.number + 1)
            }
            out += "]}"
            return out
        default:
            throw Failure(code: -10001, text: "Unknown operation \(op)")
        }
    }

    func text(_ s: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: s)))
    }

    func envelope(_ json: String, wrap: Bool) -> Response { text(wrap ? "[" + json + "]" : json) }

    static func json(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    static func quote(_ s: String) -> String { (try? json([s])).map { String($0.dropFirst().dropLast()) } ?? "\"\"" }
}
