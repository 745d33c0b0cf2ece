import Foundation
import HTTPTypes
import Hummingbird
import SimulatorKit
import Synchronization

/// The WeCom server API as reference §3 describes it: HTTP 200 with `errcode`/`errmsg` and `Error-Code`
/// headers, `gettoken` with a configurable lifetime (so 42001 happens mid-cursor), follow users, customers
/// with several followers, `batch/get_by_user` with opaque cursors, 84061 from `externalcontact/list` for
/// members without customers, injected 45009 / -1; and, for the Notify plugin, the group-robot webhook
/// (20 messages/min per key, byte limits, 93000/93004) and `message/send` (invaliduser, 81013).
public final class WeComSimulator: Sendable {
    public struct Data: Sendable {
        public var seed: UInt64 = 3
        public var corpID = "ww-sim-corp"
        public var corpSecret = "sim-corp-secret-0123456789"
        public var staff = 40
        /// Members with no customers at all (the last ones): `externalcontact/list` answers 84061 for them.
        public var staffWithoutCustomers = 3
        public var contacts = 1_000
        public var tokenLifetime: Duration = .seconds(7200)
        /// The robot limit: 20 messages per this window (a minute on the real service; shorter in tests).
        public var robotWindow: Duration = .seconds(60)
        public init() {}
    }

    public struct Faults: Sendable {
        /// The next n data calls answer 45009 (frequency limit).
        public var rateLimited = 0
        /// The next n data calls answer -1 (system busy).
        public var busy = 0
        /// Data calls answer 48002 (the app may not call the contact API).
        public var noPermission = false
        /// The next n data calls fail at the HTTP level (500).
        public var httpErrors = 0
        public init() {}
    }

    public struct Delivered: Sendable, Equatable {
        public var channel: String  // "webhook:<key>" | "app:<agentid>"
        public var msgtype: String
        public var content: String
        public var touser: String?
        public var at: Date
    }

    struct State {
        var token: String?
        var tokenExpiry: ContinuousClock.Instant = .now
        var deleted = Set<Int>()
        var renamed = Set<Int>()
        /// Members who no longer have the customer-contact feature (left the follow-user list).
        var removedStaff = Set<Int>()
        var faults = Faults()
        var counts: [String: Int] = [:]
        var delivered: [Delivered] = []
        var webhookTimes: [String: [ContinuousClock.Instant]] = [:]
        var disabledKeys = Set<String>()
        var robotKeys = Set<String>()
    }

    public let data: Data
    public let server = SimulatorServer(name: "wecom-sim")
    private let state = Mutex(State())
    /// Contact indexes each member follows, in a stable order.
    public let contactsOf: [[Int]]
    /// The members following each contact.
    public let followersOf: [[Int]]

    public init(_ data: Data = Data()) {
        self.data = data
        let withCustomers = max(1, data.staff - data.staffWithoutCustomers)
        var byUser = Array(repeating: [Int](), count: data.staff)
        var byContact = Array(repeating: [Int](), count: data.contacts)
        for c in 0..<data.contacts {
            let r = SimRandom.mix(data.seed, UInt64(c))
            let n = Int(r % 10 < 6 ? 1 : r % 10 < 9 ? 2 : 3)
            var users: [Int] = []
            for k in 0..<n {
                let u = Int((r >> (8 * UInt64(k + 1))) % UInt64(withCustomers))
                if !users.contains(u) { users.append(u) }
            }
            byContact[c] = users
            for u in users { byUser[u].append(c) }
        }
        contactsOf = byUser
        followersOf = byContact
    }

    public var faults: Faults {
        get { state.withLock { $0.faults } }
        set { state.withLock { $0.faults = newValue } }
    }

    public func count(of path: String) -> Int { state.withLock { $0.counts[path] ?? 0 } }
    public var delivered: [Delivered] { state.withLock { $0.delivered } }
    /// Webhook calls refused with 45009 (over the robot's rate).
    public var robotRefusals: Int { state.withLock { $0.counts["webhook45009"] ?? 0 } }
    public func addRobot(key: String) { state.withLock { _ = $0.robotKeys.insert(key) } }
    public func disableRobot(key: String) { state.withLock { _ = $0.disabledKeys.insert(key) } }

    /// Removes contacts from the corp (a later full sync must mark exactly these deleted).
    public func delete(contacts: [Int]) { state.withLock { $0.deleted.formUnion(contacts) } }
    /// Changes contacts' names (an incremental sync must update exactly these).
    public func rename(contacts: [Int]) { state.withLock { $0.renamed.formUnion(contacts) } }
    /// Takes members off the follow-user list (a later sync must mark them inactive, not drop them).
    public func removeFollowUsers(_ users: [Int]) { state.withLock { $0.removedStaff.formUnion(users) } }
    public func staffName(_ u: Int) -> String { "员工\(u)" }
    public func expireToken() { state.withLock { $0.tokenExpiry = .now - .seconds(1) } }

    public func userID(_ u: Int) -> String { String(format: "user%03d", u) }
    public func externalUserID(_ c: Int) -> String { "wmSim" + String(SimRandom.mix(data.seed ^ 0xABC, UInt64(c)), radix: 36) + "\(c)" }

    /// The live contacts and (contact, follower) sessions a correct sync must hold.
    public func expected() -> (contacts: Set<String>, sessions: Set<String>) {
        let (deleted, removed) = state.withLock { ($0.deleted, $0.removedStaff) }
        var contacts = Set<String>(), sessions = Set<String>()
        for c in 0..<data.contacts where !deleted.contains(c) {
            let followers = followersOf[c].filter { !removed.contains($0) }
            guard !followers.isEmpty else { continue }
            contacts.insert(externalUserID(c))
            for u in followers { sessions.insert("\(externalUserID(c)):\(userID(u))") }
        }
        return (contacts, sessions)
    }

    @discardableResult
    public func start(port: Int = 0) async throws -> String {
        try await server.start(router: router(), port: port)
        return server.baseURL
    }

    public func stop() { server.stop() }

    // MARK: HTTP

    func router() -> Router<BasicRequestContext> {
        let r = Router()
        r.get("cgi-bin/gettoken") { req, _ in self.gettoken(req) }
        r.get("cgi-bin/externalcontact/get_follow_user_list") { req, _ in
            try self.authed(req, "follow") {
                let removed = self.state.withLock { $0.removedStaff }
                return ["follow_user": (0..<self.data.staff).filter { !removed.contains($0) }.map(self.userID)]
            }
        }
        // 通讯录 read-member: the fields the plugin uses (status 1 = activated).
        r.get("cgi-bin/user/get") { req, _ in
            try self.authed(req, "user") {
                guard let u = req.uri.queryParameters.get("userid").flatMap(self.userIndex) else { throw APIFailure(60111, "userid not found") }
                return ["userid": self.userID(u), "name": self.staffName(u), "department": [1], "status": 1]
            }
        }
        r.get("cgi-bin/externalcontact/list") { req, _ in
            try self.authed(req, "list") {
                let removed = self.state.withLock { $0.removedStaff }
                guard let u = req.uri.queryParameters.get("userid").flatMap(self.userIndex), !self.contactsOf[u].isEmpty, !removed.contains(u) else {
                    throw APIFailure(84061, "not external contact, hint: [sim], more info at https://open.work.weixin.qq.com/devtool/query?e=84061")
                }
                let deleted = self.state.withLock { $0.deleted }
                return ["external_userid": self.contactsOf[u].filter { !deleted.contains($0) }.map(self.externalUserID)]
            }
        }
        r.post("cgi-bin/externalcontact/batch/get_by_user") { req, _ in
            let body = try await req.body.collect(upTo: 1 << 20)
            return try self.authed(req, "batch") { try self.batch(Foundation.Data(buffer: body)) }
        }
        r.post("cgi-bin/webhook/send") { req, _ in
            let body = try await req.body.collect(upTo: 1 << 20)
            return self.webhook(key: req.uri.queryParameters.get("key") ?? "", Foundation.Data(buffer: body))
        }
        r.post("cgi-bin/message/send") { req, _ in
            let body = try await req.body.collect(upTo: 1 << 20)
            return try self.authed(req, "message") { try self.message(Foundation.Data(buffer: body)) }
        }
        return r
    }

    struct APIFailure: Error {
        let code: Int
        let message: String
        init(_ code: Int, _ message: String) {
            self.code = code
            self.message = message
        }
    }

    func userIndex(_ id: String) -> Int? {
        guard id.hasPrefix("user"), let n = Int(id.dropFirst(4)), (0..<data.staff).contains(n) else { return nil }
        return n
    }

    func respond(_ code: Int, _ message: String, _ fields: [String: Any] = [:]) -> Response {
        var o = fields
        o["errcode"] = code
        o["errmsg"] = message
        let bytes = (try? JSONSerialization.data(withJSONObject: o)) ?? Foundation.Data()
        return Response(status: .ok, headers: [.contentType: "application/json; charset=UTF-8",
                                               HTTPField.Name("Error-Code")!: String(code), HTTPField.Name("Error-Msg")!: message],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func gettoken(_ req: Request) -> Response {
        state.withLock { $0.counts["gettoken", default: 0] += 1 }
        let q = req.uri.queryParameters
        guard q.get("corpid") == data.corpID else { return respond(40013, "invalid corpid") }
        guard q.get("corpsecret") == data.corpSecret else { return respond(40001, "invalid credential, access_token is invalid or not latest") }
        let (token, seconds) = state.withLock { s -> (String, Int) in
            if s.token == nil || s.tokenExpiry <= .now {
                s.token = "tok" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
                s.tokenExpiry = .now + data.tokenLifetime
            }
            return (s.token!, Int(data.tokenLifetime.components.seconds))
        }
        return respond(0, "ok", ["access_token": token, "expires_in": seconds])
    }

    func authed(_ req: Request, _ name: String, _ answer: () throws -> [String: Any]) throws -> Response {
        let token = req.uri.queryParameters.get("access_token") ?? ""
        enum Verdict { case ok, http, code(Int, String) }
        let verdict = state.withLock { s -> Verdict in
            s.counts[name, default: 0] += 1
            if token.isEmpty { return .code(41001, "access_token missing") }
            if token != s.token { return .code(40014, "invalid access_token") }
            if s.tokenExpiry <= .now { return .code(42001, "access_token expired") }
            if s.faults.httpErrors > 0 { s.faults.httpErrors -= 1; return .http }
            if s.faults.noPermission { return .code(48002, "api forbidden") }
            if s.faults.rateLimited > 0 { s.faults.rateLimited -= 1; return .code(45009, "api freq out of limit") }
            if s.faults.busy > 0 { s.faults.busy -= 1; return .code(-1, "system busy") }
            return .ok
        }
        switch verdict {
        case .http: return Response(status: .internalServerError)
        case .code(let c, let m): return respond(c, m)
        case .ok:
            do { return respond(0, "ok", try answer()) } catch let e as APIFailure { return respond(e.code, e.message) }
        }
    }

    func contactJSON(_ c: Int, renamed: Bool) -> [String: Any] {
        let r = SimRandom.mix(data.seed ^ 0x77, UInt64(c))
        var o: [String: Any] = [
            "external_userid": externalUserID(c), "name": "客户\(c)" + (renamed ? "(改)" : ""), "position": r % 3 == 0 ? "经理" : "",
            "avatar": "https://wework.qpic.cn/sim/\(c)/0", "corp_name": "公司\(r % 50)", "corp_full_name": "模拟公司\(r % 50)有限公司",
            "type": Int(r % 2 + 1), "gender": Int(r % 3), "external_profile": ["external_attr": [Any]()],
        ]
        if r % 4 == 0 { o["unionid"] = "oSim\(r % 1_000_000)" }
        return o
    }

    func followJSON(_ c: Int, _ u: Int) -> [String: Any] {
        let r = SimRandom.mix(data.seed ^ UInt64(u), UInt64(c))
        return [
            "userid": userID(u), "remark": r % 2 == 0 ? "备注\(c)" : "", "description": "", "createtime": 1_600_000_000 + Int(r % 100_000_000),
            "tag_id": r % 3 == 0 ? ["etSimTag\(r % 7)"] : [String](), "remark_corp_name": "", "remark_mobiles": [String](),
            "oper_userid": userID(u), "add_way": Int(r % 10), "state": r % 5 == 0 ? "外联二维码1" : "",
        ]
    }

    /// Pages over (member, contact) pairs of the listed members; the cursor encodes where the page ended.
    func batch(_ body: Foundation.Data) throws -> [String: Any] {
        guard let o = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let users = o["userid_list"] as? [String] else {
            throw APIFailure(40058, "invalid parameter: userid_list")
        }
        guard !users.isEmpty, users.count <= 100 else { throw APIFailure(40058, "field `userid_list` exceed max length") }
        let limit = min(max((o["limit"] as? Int) ?? 50, 1), 100)
        var (ui, pos) = (0, 0)
        if let cursor = o["cursor"] as? String, !cursor.isEmpty {
            guard let raw = Foundation.Data(base64Encoded: cursor).map({ String(decoding: $0, as: UTF8.self) }),
                  case let parts = raw.split(separator: ":"), parts.count == 3, let a = Int(parts[0]), let b = Int(parts[1]) else {
                throw APIFailure(40058, "invalid cursor")
            }
            (ui, pos) = (a, b)
        }
        let (deleted, renamed, removed) = state.withLock { ($0.deleted, $0.renamed, $0.removedStaff) }
        var rows: [[String: Any]] = []
        while ui < users.count && rows.count < limit {
            guard let u = userIndex(users[ui]), !removed.contains(u) else { ui += 1; pos = 0; continue }
            let list = contactsOf[u]
            while pos < list.count && rows.count < limit {
                let c = list[pos]
                pos += 1
                if deleted.contains(c) { continue }
                rows.append(["external_contact": contactJSON(c, renamed: renamed.contains(c)), "follow_info": followJSON(c, u)])
            }
            if pos >= list.count { ui += 1; pos = 0 }
        }
        let next = ui < users.count ? Foundation.Data("\(ui):\(pos):\(data.seed)".utf8).base64EncodedString() : ""
        return ["external_contact_list": rows, "next_cursor": next]
    }

    func webhook(key: String, _ body: Foundation.Data) -> Response {
        enum Verdict { case ok, code(Int, String) }
        let data = self.data
        guard let o = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let type = o["msgtype"] as? String,
              let part = o[type] as? [String: Any], let content = part["content"] as? String else {
            return respond(40008, "invalid message type")
        }
        let limit = type == "markdown" ? 4096 : 2048
        let verdict = state.withLock { s -> Verdict in
            s.counts["webhook", default: 0] += 1
            guard s.robotKeys.contains(key) else { return .code(93000, "invalid webhook url") }
            if s.disabledKeys.contains(key) { return .code(93004, "robot is disabled") }
            guard content.utf8.count <= limit else { return .code(40058, "content exceed max length \(limit)") }
            let now = ContinuousClock.now
            var times = s.webhookTimes[key, default: []].filter { now - $0 < data.robotWindow }
            guard times.count < 20 else {
                s.counts["webhook45009", default: 0] += 1
                return .code(45009, "api freq out of limit")
            }
            times.append(now)
            s.webhookTimes[key] = times
            s.delivered.append(Delivered(channel: "webhook:\(key)", msgtype: type, content: content, touser: nil, at: Date()))
            return .ok
        }
        switch verdict {
        case .ok: return respond(0, "ok")
        case .code(let c, let m): return respond(c, m)
        }
    }

    func message(_ body: Foundation.Data) throws -> [String: Any] {
        guard let o = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let type = o["msgtype"] as? String,
              let part = o[type] as? [String: Any], let content = part["content"] as? String else {
            throw APIFailure(40008, "invalid message type")
        }
        let users = ((o["touser"] as? String) ?? "").split(separator: "|").map(String.init)
        let valid = users.filter { $0 == "@all" || userIndex($0) != nil }
        let invalid = users.filter { !valid.contains($0) }
        guard !valid.isEmpty else { throw APIFailure(81013, "user & party & tag all invalid") }
        state.withLock {
            $0.delivered.append(Delivered(channel: "app:\(o["agentid"] ?? "")", msgtype: type, content: content, touser: valid.joined(separator: "|"), at: Date()))
        }
        return ["invaliduser": invalid.map { $0.lowercased() }.joined(separator: "|"), "invalidparty": "", "invalidtag": "", "msgid": UUID().uuidString]
    }
}
