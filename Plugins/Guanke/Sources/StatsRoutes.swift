import Foundation
import PluginAPI

/// The stats page's endpoints. Reads come from the cache in milliseconds; today is computed live on a miss
/// (and cached); a past date that was never synced is a clear "not synced yet" unless `cache=live`.
struct StatsRoutes {
    let client: GuankeClient

    init(client: GuankeClient, dates: DateSpec, context: RouteContext) {
        self.client = client
        self.dates = dates
        self.context = context
    }

    /// For a route of the connector's table: the instance's client and zone.
    init(_ plugin: GuankeConnector, _ context: RouteContext) throws {
        let client = try plugin.client(try context.requireInstance().config, context.host)
        self.init(client: client, dates: DateSpec(zone: client.zone), context: context)
    }

    let dates: DateSpec
    let context: RouteContext

    enum Track: String {
        case grade = "grade_stats"
        case task = "task_stats"
    }

    func date(_ raw: String?) throws -> String {
        guard let raw, !raw.isEmpty else { return dates.today(context.now) }
        let days = try dates.resolve(raw, now: context.now)
        guard days.count == 1 else { throw PluginError(.invalid, "date: one day, not a range") }
        return days[0]
    }

    /// The legacy front end's answers (`?format=legacy`), exactly as seed 002 documents them.
    static let notSyncedLegacy = "历史数据未同步，请等待后台同步完成"

    func read(_ track: Track, _ query: [String: String]) async throws -> RouteResponse {
        let format = query["format"] ?? "default"
        guard ["default", "legacy"].contains(format) else { throw PluginError(.invalid, "format must be default or legacy") }
        let day = try date(query["date"])
        let answer = try await lookup(track, day, policy: query["cache"] ?? "cache")
        if format == "legacy" { return try await legacy(track, answer) }
        // A cached answer depends only on the record read (the host re-checks it) and, for a relative date
        // (none, today, T-N), on the day: the host may reuse it until the next midnight in the instance's zone.
        let reuse = RouteCachePolicy(until: isExplicit(query["date"]) ? nil : dates.calendar.nextMidnight(after: context.now))
        guard let fields = answer else {
            var response = try RouteResponse.json(["error": ["code": "not_synced", "message": .string("\(day) is not synced yet: wait for the scheduled sync, POST .../\(track == .grade ? "grade" : "task")-stats/refresh, or read with cache=live")]], status: 404)
            response.cache = reuse
            return response
        }
        var response = Self.response(fields)
        if fields["source"] == "cache" { response.cache = reuse }
        return response
    }

    /// The day's answer fields (`fields(...)`): from the cache, or computed live for today or with
    /// `cache=live`; nil for a past day that was never synced.
    func lookup(_ track: Track, _ day: String, policy: String) async throws -> [String: JSONValue]? {
        guard ["cache", "live"].contains(policy) else { throw PluginError(.invalid, "cache must be cache or live") }
        if policy == "cache", let cached = try await context.store.list(.init(collection: track.rawValue, keyFrom: day, keyTo: day, limit: 1)).records.first {
            return try fields(cached.data, source: "cache", syncedAt: cached.syncedAt, elapsed: 0)
        }
        guard policy == "live" || day == dates.today(context.now) else { return nil }
        return try await live(track, day)
    }

    /// `{"success": true, "data": {date, grade_9, grade_1, total_success, from_cache, elapsed_time,
    /// calculated_at: "yyyy-MM-dd HH:mm:ss" in the instance's zone}}`, task stats with the legacy field names,
    /// and `{"success": false, "error": "历史数据未同步…"}` for a past day not synced (HTTP 200, as it was).
    func legacy(_ track: Track, _ answer: [String: JSONValue]?) async throws -> RouteResponse {
        guard let o = answer else { return try RouteResponse.json(["success": false, "error": .string(Self.notSyncedLegacy)] as JSONValue) }
        let fromCache = o["from_cache"]?.boolValue ?? false
        let date = o["date"]?.stringValue ?? ""
        var data: [String: JSONValue] = ["date": .string(date), "from_cache": .bool(fromCache)]
        switch track {
        case .grade:
            for k in ["grade_9", "grade_1", "total_success", "total_records"] { data[k] = o[k] ?? 0 }
            let stored = try await context.store.state(GradeStats.elapsedState(date))?.doubleValue
            data["elapsed_time"] = .double(fromCache ? (stored ?? 0) : (o["elapsed_time"]?.doubleValue ?? 0))
        case .task:
            data["total_tasks"] = o["total_tasks"] ?? 0
            data["callout_number"] = o["callout"] ?? 0
            data["called_number"] = o["called"] ?? 0
            data["success_number"] = o["success"] ?? 0
            data["connected_rate"] = o["connected_rate"] ?? 0
        }
        let at = o["calculated_at"]?.stringValue.flatMap { try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse($0) } ?? Date()
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = dates.zone
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        data["calculated_at"] = .string(f.string(from: at))
        return try RouteResponse.json(["success": true, "data": .object(data)] as JSONValue)
    }

    /// A yyyy-MM-dd date means the same day whenever it is asked.
    func isExplicit(_ raw: String?) -> Bool {
        guard let raw, raw.count == 10 else { return false }
        return CalendarDays(zone: dates.zone).date(raw) != nil
    }

    func refresh(_ track: Track, _ body: String?) async throws -> RouteResponse {
        var raw: String?
        if let body, !body.isEmpty {
            guard let v = try? JSONValue.parse(Array(body.utf8)), case .object(let o) = v else { throw PluginError(.invalid, "body must be a JSON object like {\"date\": \"yyyy-MM-dd\"}") }
            for k in o.keys where k != "date" { throw PluginError(.invalid, "unknown field \(k.debugDescription) (known: date)") }
            guard o["date"] == nil || o["date"]?.stringValue != nil else { throw PluginError(.invalid, "date: expected a string") }
            raw = o["date"]?.stringValue
        }
        return Self.response(try await live(track, try date(raw)))
    }

    /// Computes a day now against the platform and caches it.
    func live(_ track: Track, _ day: String) async throws -> [String: JSONValue] {
        let started = ContinuousClock.now
        let data: JSONValue
        switch track {
        case .grade:
            let computed = try await GradeStats(client: client).compute(date: day)
            try await context.store.setState(GradeStats.elapsedState(day), .double(Double(computed.elapsedMs) / 1000))
            data = computed.json
        case .task:
            let d = try await TaskStats(client: client).compute(date: day)
            try await context.store.upsert("task_rows", d.rows)
            data = d.summary
        }
        try await context.store.upsert(track.rawValue, [Record(key: day, data: data)])
        let elapsed = Double((ContinuousClock.now - started) / .milliseconds(1)) / 1000
        return try fields(data, source: "live", syncedAt: context.now, elapsed: elapsed)
    }

    static func response(_ fields: [String: JSONValue]) -> RouteResponse {
        RouteResponse(body: String(decoding: JSONValue.object(fields).jsonBytes, as: UTF8.self))
    }

    /// A stored day as answered: its counts plus where it came from and when it was computed.
    func fields(_ data: JSONValue, source: String, syncedAt: Date, elapsed: Double) throws -> [String: JSONValue] {
        guard case .object(var o) = data else { throw PluginError(.internal, "cached stats are not an object") }
        let at = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(syncedAt)
        o["source"] = .string(source)
        o["from_cache"] = .bool(source == "cache")
        o["last_synced_at"] = .string(at)
        o["calculated_at"] = .string(at)
        o["elapsed_time"] = .double(elapsed)
        if o["complete"] == nil { o["complete"] = true }
        return o
    }

    /// Both tracks per day for a range (the stats page), from the cache.
    func joined(_ query: [String: String]) async throws -> RouteResponse {
        let to = try date(query["to"])
        let from = try date(query["from"] ?? "T-6")
        let days = try dates.resolve("\(from)..\(to)", now: context.now)
        func all(_ c: String) async throws -> [String: StoreService.ListedRecord] {
            let page = try await context.store.list(.init(collection: c, keyFrom: from, keyTo: to, limit: 1000))
            return Dictionary(uniqueKeysWithValues: page.records.map { ($0.key, $0) })
        }
        let grades = try await all(Track.grade.rawValue), tasks = try await all(Track.task.rawValue)
        let rows: [JSONValue] = days.map { d in
            [
                "date": .string(d), "task_stats": tasks[d]?.data ?? .null, "grade_stats": grades[d]?.data ?? .null,
                "synced": .bool(tasks[d] != nil && grades[d] != nil),
            ]
        }
        return RouteResponse(body: String(decoding: JSONValue.object(["from": .string(from), "to": .string(to), "days": .array(rows)]).jsonBytes, as: UTF8.self))
    }
}

extension RouteResponse {
    static func json(_ value: JSONValue, status: Int) throws -> RouteResponse {
        RouteResponse(status: status, body: String(decoding: value.jsonBytes, as: UTF8.self))
    }
}

extension Calendar {
    /// The start of the day after the one `date` falls in.
    func nextMidnight(after date: Date) -> Date {
        self.date(byAdding: .day, value: 1, to: startOfDay(for: date)) ?? date.addingTimeInterval(86_400)
    }
}
