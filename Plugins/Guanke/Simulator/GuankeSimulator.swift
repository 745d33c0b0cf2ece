import Foundation
import Hummingbird
import SimulatorKit
import Synchronization

/// The Guanke (冠客/Gooki) open API as reference §2 describes it: tokens by password or secret with an expiry,
/// the `{"code","message","data"}` envelope, `GET /task/cdr/all2` paging (nothing for `pageSize` > 1000), and
/// `POST /extension/agent/stat` (≤ 7-day windows, total/average pseudo-rows). Records are deterministic per
/// date: `recordsPerDay(date)` of them, with grades ("9元", "1元", …), durations and tasks from the seed.
public final class GuankeSimulator: Sendable {
    public struct Data: Sendable {
        public var seed: UInt64 = 7
        public var username = "demo"
        public var password = "p@ss word"
        public var secret = "s3cret-key"
        public var tasks = 8
        /// Records of a date (yyyy-MM-dd); the default gives every day 300.
        public var recordsPerDay: @Sendable (String) -> Int = { _ in 300 }
        public var tokenLifetime: Duration = .seconds(30 * 86_400)
        public var timeZone = TimeZone(identifier: "Asia/Shanghai")!
        public init() {}
    }

    public struct Faults: Sendable {
        /// Delay of every `cdr/all2` page (the legacy saw 17–30 s for a day).
        public var pageLatencyMs = 0
        /// The next n requests answer HTTP 502.
        public var fail5xx = 0
        /// Every token expires after this many more data requests (code 1000002 mid-paging).
        public var expireTokensAfter: Int?
        /// Each page reports `totalCount` this much higher than the one before (records "appearing" while
        /// paging, which never come): paging ends short of `totalCount`.
        public var totalCountDrift = 0
        public init() {}
    }

    public let data: Data
    public let server = SimulatorServer(name: "guanke-sim")
    private let tokens = Mutex<[String: ContinuousClock.Instant]>([:])
    private let faultState = Mutex(Faults())
    private let counters = Mutex<[String: Int]>([:])

    public init(_ data: Data = Data()) { self.data = data }

    public var faults: Faults {
        get { faultState.withLock { $0 } }
        set { faultState.withLock { $0 = newValue } }
    }

    public func count(of path: String) -> Int { counters.withLock { $0[path] ?? 0 } }

    /// Invalidates every issued token now (the next call gets 1000002).
    public func expireAllTokens() { tokens.withLock { t in for k in t.keys { t[k] = .now - .seconds(1) } } }

    @discardableResult
    public func start(port: Int = 0) async throws -> String {
        try await server.start(router: router(), port: port)
        return server.baseURL
    }

    public func stop() { server.stop() }

    // MARK: data

    public struct Grades: Sendable, Equatable {
        public var grade9 = 0, grade1 = 0, total = 0, connected = 0
    }

    static let otherGrades = ["A", "邀约失败", "F-直接挂机", "未接通", "空号", "关机", "拒接", "B"]

    func record(date: String, index i: Int) -> (grade: String, task: Int, duration: Int, isCall: Int, r: UInt64) {
        let r = SimRandom.mix(data.seed ^ SimRandom.hash(date), UInt64(i))
        let g: String =
            switch r % 100 {
            case 0..<9: "9元"
            case 9..<10: "9"
            case 10..<14: "1元"
            default: Self.otherGrades[Int((r >> 8) % UInt64(Self.otherGrades.count))]
            }
        let duration = g == "未接通" || g == "空号" || g == "关机" ? 0 : Int((r >> 16) % 180) + 1
        return (g, Int((r >> 32) % UInt64(data.tasks)) + 1, duration, g == "未接通" ? 0 : 1, r)
    }

    /// What a correct client must compute for a date.
    public func expected(_ date: String) -> Grades {
        var g = Grades()
        let n = data.recordsPerDay(date)
        for i in 0..<n {
            let rec = record(date: date, index: i)
            if rec.grade.contains("9元") || rec.grade == "9" { g.grade9 += 1 }
            if rec.grade.contains("1元") || rec.grade == "1" { g.grade1 += 1 }
            if rec.duration > 0 { g.connected += 1 }
        }
        g.total = n
        return g
    }

    func dayStart(_ date: String) -> Int {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = data.timeZone
        let p = date.split(separator: "-").compactMap { Int($0) }
        guard p.count == 3, let d = cal.date(from: DateComponents(year: p[0], month: p[1], day: p[2])) else { return 0 }
        return Int(d.timeIntervalSince1970)
    }

    func days(from start: String, to end: String) -> [String]? {
        let fmt = DateFormatter()
        fmt.locale = Locale(identifier: "en_US_POSIX")
        fmt.timeZone = data.timeZone
        fmt.dateFormat = "yyyy-MM-dd"
        guard let a = fmt.date(from: String(start.prefix(10))), let b = fmt.date(from: String(end.prefix(10))), a <= b else { return nil }
        var out: [String] = []
        var d = a
        while d <= b && out.count <= 400 {
            out.append(fmt.string(from: d))
            d = d.addingTimeInterval(86_400)
        }
        return out
    }

    // MARK: HTTP

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("token") { request, _ -> Response in
            self.bump("token")
            let q = request.uri.queryParameters
            guard q.get("username") == self.data.username, q.get("password") == self.data.password else {
                return self.envelope(code: 401, message: "用户名或密码错误", data: nil)
            }
            return self.issueToken()
        }
        router.get("token/secret") { request, _ -> Response in
            self.bump("token")
            guard request.uri.queryParameters.get("secret") == self.data.secret else {
                return self.envelope(code: 401, message: "secret 无效", data: nil)
            }
            return self.issueToken()
        }
        router.get("task/cdr/all2") { request, _ -> Response in
            try await self.guarded(request, "cdr") { try await self.cdrPage(request) }
        }
        router.post("extension/agent/stat") { request, _ -> Response in
            try await self.guarded(request, "stat") { try await self.stat(request) }
        }
        return router
    }

    func bump(_ k: String) { counters.withLock { $0[k, default: 0] += 1 } }

    func issueToken() -> Response {
        let token = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        tokens.withLock { $0[token] = .now + data.tokenLifetime }
        return envelope(code: 200, message: "OK", data: ["token": token])
    }

    /// Faults, then the raw `Authorization` token check (1000001 unknown, 1000002 expired).
    func guarded(_ request: Request, _ name: String, _ body: () async throws -> Response) async throws -> Response {
        bump(name)
        let fail = faultState.withLock { f -> Bool in
            if f.fail5xx > 0 { f.fail5xx -= 1; return true }
            if let n = f.expireTokensAfter {
                if n <= 0 {
                    f.expireTokensAfter = nil
                    tokens.withLock { t in for k in t.keys { t[k] = .now - .seconds(1) } }
                } else {
                    f.expireTokensAfter = n - 1
                }
            }
            return false
        }
        if fail { return Response(status: .badGateway, body: .init(byteBuffer: ByteBuffer(string: "<html>502 Bad Gateway</html>"))) }
        let token = request.headers[.authorization] ?? ""
        guard let expiry = tokens.withLock({ $0[token] }) else { return envelope(code: 1_000_001, message: "token无效", data: nil) }
        guard expiry > .now else { return envelope(code: 1_000_002, message: "token已过期", data: nil) }
        return try await body()
    }

    func cdrPage(_ request: Request) async throws -> Response {
        let q = request.uri.queryParameters
        guard let page = q.get("page").flatMap(Int.init), page >= 1 else { return envelope(code: 400, message: "page 必填", data: nil) }
        let size = q.get("pageSize").flatMap(Int.init) ?? 10
        guard let start = q.get("startTime"), let end = q.get("endTime"), let days = days(from: start, to: end) else {
            return envelope(code: 400, message: "startTime/endTime 格式错误", data: nil)
        }
        let f = faults
        if f.pageLatencyMs > 0 { try await Task.sleep(for: .milliseconds(f.pageLatencyMs)) }
        let counts = days.map { data.recordsPerDay($0) }
        let total = counts.reduce(0, +)
        // Over 1000 per page: the platform answers with nothing.
        guard size <= 1000, size >= 1 else {
            return envelope(code: 200, message: "OK", data: ["data": [Any](), "page": page, "totalCount": 0])
        }
        var rows: [[String: Any]] = []
        var index = (page - 1) * size
        while rows.count < size && index < total {
            var dayIndex = 0, offset = index
            while offset >= counts[dayIndex] { offset -= counts[dayIndex]; dayIndex += 1 }
            let date = days[dayIndex]
            let rec = record(date: date, index: offset)
            rows.append([
                "id": "\(date)-\(offset)", "taskId": rec.task, "TaskName": "江苏-任务\(rec.task)", "callTime": dayStart(date) + offset * 86_000 / max(counts[dayIndex], 1),
                "duration": rec.duration, "grade": rec.grade, "hangupReason": rec.duration > 0 ? "客户挂机" : "未接通", "phone": "138****\(String(format: "%04d", Int(rec.r % 10_000)))",
                "realPhone": "138\(String(format: "%08d", Int(rec.r % 100_000_000)))", "isCall": rec.isCall, "isFollow": 0, "audio": "", "city": "南京", "province": "江苏",
                "deviceId": 1, "deviceName": "线路A", "userId": 9, "companyId": 1, "ccId": 0, "ext": [String: Any](), "params": "", "remark": "",
            ])
            index += 1
        }
        let reported = total + f.totalCountDrift * (page - 1)
        return envelope(code: 200, message: "OK", data: [
            "data": rows, "page": page, "totalCount": reported, "start": dayStart(days[0]), "end": dayStart(days[days.count - 1]) + 86_399, "only": "",
        ])
    }

    func stat(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 16)
        guard let json = try? JSONSerialization.jsonObject(with: Foundation.Data(buffer: body)) as? [String: Any],
              let start = json["start_time"] as? String, let end = json["end_time"] as? String, let days = days(from: start, to: end)
        else { return envelope(code: 400, message: "参数错误", data: nil) }
        guard days.count <= 7 else { return envelope(code: 400, message: "查询时间范围不能超过7天", data: nil) }
        guard (json["query_type"] as? Int) == 20 else { return envelope(code: 400, message: "仅模拟 query_type=20", data: nil) }
        var perTask: [Int: (callout: Int, called: Int, success: Int)] = [:]
        for day in days {
            for i in 0..<data.recordsPerDay(day) {
                let r = record(date: day, index: i)
                var t = perTask[r.task] ?? (0, 0, 0)
                t.callout += 1
                if r.duration > 0 { t.called += 1 }
                if r.grade.contains("9元") || r.grade == "9" || r.grade.contains("1元") { t.success += 1 }
                perTask[r.task] = t
            }
        }
        var content: [[String: Any]] = perTask.keys.sorted().map { id in
            let t = perTask[id]!
            return ["user_id": id, "username": "江苏-任务\(id)", "callout_number": t.callout, "called_number": t.called,
                    "connected_rate": t.callout == 0 ? 0 : (Double(t.called) / Double(t.callout) * 10_000).rounded() / 100,
                    "success_number": t.success, "intention_number": t.called, "intention_number2": 0]
        }
        let total = perTask.values.reduce((0, 0, 0)) { ($0.0 + $1.callout, $0.1 + $1.called, $0.2 + $1.success) }
        // The pseudo-rows the frontend filtered out.
        content.append(["username": "总计", "callout_number": total.0, "called_number": total.1, "success_number": total.2])
        content.append(["username": "平均", "callout_number": perTask.isEmpty ? 0 : total.0 / perTask.count, "called_number": 0, "success_number": 0])
        return envelope(code: 200, message: "OK", data: [
            "content": content, "total": ["callout_number": total.0, "called_number": total.1, "success_number": total.2], "average": [String: Any](),
        ])
    }

    func envelope(code: Int, message: String, data: Any?) -> Response {
        var o: [String: Any] = ["code": code, "message": message]
        if let data { o["data"] = data }
        let bytes = (try? JSONSerialization.data(withJSONObject: o)) ?? Foundation.Data()
        return Response(status: .ok, headers: [.contentType: "application/json;charset=UTF-8"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
