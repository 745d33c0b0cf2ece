import Foundation
import PluginAPI
import Synchronization

/// A 5-field cron expression in the Vixie/cronie dialect: `*`, lists, ranges, steps (`*/5`, `1-30/2`, `5/15`),
/// month and weekday names, 0 and 7 both Sunday, the day-of-month / day-of-week OR rule when both are
/// restricted, and the macros @yearly @annually @monthly @weekly @daily @midnight @hourly.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let source: String
    let minutes: [Int]
    let hours: [Int]
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    /// 0 = Sunday ... 6 = Saturday
    let daysOfWeek: Set<Int>
    /// Fields that start with `*` (cronie's DOM_STAR / DOW_STAR / MIN_STAR / HR_STAR).
    let domStar: Bool, dowStar: Bool, minuteStar: Bool, hourStar: Bool

    public var description: String { source }

    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    public init(_ expression: String) throws(CronError) {
        source = expression
        var text = expression.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("@") {
            guard let expanded = Self.macros[text.lowercased()] else {
                throw CronError("unknown macro \(text.debugDescription) (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)")
            }
            text = expanded
        }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw CronError("expected 5 fields (minute hour day-of-month month day-of-week), got \(fields.count)")
        }
        minutes = try Self.parse(fields[0], field: "minute", range: 0...59).sorted()
        hours = try Self.parse(fields[1], field: "hour", range: 0...23).sorted()
        daysOfMonth = try Self.parse(fields[2], field: "day-of-month", range: 1...31)
        months = try Self.parse(fields[3], field: "month", range: 1...12, names: Self.monthNames, nameBase: 1)
        daysOfWeek = Set(try Self.parse(fields[4], field: "day-of-week", range: 0...7, names: Self.dayNames, nameBase: 0).map { $0 % 7 })
        minuteStar = fields[0].hasPrefix("*")
        hourStar = fields[1].hasPrefix("*")
        domStar = fields[2].hasPrefix("*")
        dowStar = fields[4].hasPrefix("*")
        // A day-of-month that no chosen month has (e.g. 30 2) never fires: say so now, not never.
        if dowStar, !domStar {
            let longest = months.map { [1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31][$0]! }.max() ?? 31
            if let first = daysOfMonth.min(), first > longest {
                throw CronError("day-of-month field: day \(first) never occurs in the chosen month(s), so the expression never fires")
            }
        }
    }

    static func parse(_ field: String, field name: String, range: ClosedRange<Int>, names: [String] = [], nameBase: Int = 0) throws(CronError) -> Set<Int> {
        var values = Set<Int>()
        for item in field.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw CronError("\(name) field: empty list item in \(field.debugDescription)") }
            var body = Substring(item)
            var step = 1
            if let slash = item.firstIndex(of: "/") {
                let stepText = item[item.index(after: slash)...]
                guard let s = Int(stepText) else { throw CronError("\(name) field: step \(String(stepText).debugDescription) is not a number") }
                guard s > 0 else { throw CronError("\(name) field: step must be at least 1, got \(s)") }
                guard s <= range.upperBound else { throw CronError("\(name) field: step \(s) is larger than the field's range \(range.lowerBound)-\(range.upperBound)") }
                step = s
                body = item[..<slash]
            }
            let lo: Int, hi: Int
            if body == "*" {
                (lo, hi) = (range.lowerBound, range.upperBound)
            } else if let dash = body.firstIndex(of: "-"), dash != body.startIndex {
                lo = try value(String(body[..<dash]), name, range, names, nameBase)
                hi = try value(String(body[body.index(after: dash)...]), name, range, names, nameBase)
                guard lo <= hi else { throw CronError("\(name) field: range \(body) goes backwards (\(lo) > \(hi))") }
            } else {
                lo = try value(String(body), name, range, names, nameBase)
                // cronie: "a/n" means a, a+n, ... up to the end of the range.
                hi = step > 1 ? range.upperBound : lo
            }
            values.formUnion(stride(from: lo, through: hi, by: step))
        }
        return values
    }

    static func value(_ token: String, _ name: String, _ range: ClosedRange<Int>, _ names: [String], _ base: Int) throws(CronError) -> Int {
        if let n = Int(token) {
            guard range.contains(n) else { throw CronError("\(name) field: \(n) is out of range \(range.lowerBound)-\(range.upperBound)") }
            return n
        }
        if let i = names.firstIndex(of: token.uppercased()) { return i + base }
        let hint = names.isEmpty ? "a number" : "a number or a name (\(names.first!)-\(names.last!))"
        throw CronError("\(name) field: \(token.debugDescription) is not \(hint)")
    }

    func matches(day: CivilDate) -> Bool {
        guard months.contains(day.month) else { return false }
        let dom = daysOfMonth.contains(day.day)
        let dow = daysOfWeek.contains(day.weekday)
        // cronie: when both day fields are restricted, either one matching is enough.
        if !domStar && !dowStar { return dom || dow }
        return dom && dow
    }

    /// Wildcard jobs (minute or hour starting with `*`) follow absolute time across DST changes; jobs at fixed
    /// times are anchored to the wall clock (cronie's rule).
    var isWildcard: Bool { minuteStar || hourStar }

    /// The first fire time strictly after `date`, computed on the wall clock of `zone`, or nil when the
    /// expression does not fire within the next 30 years.
    ///
    /// DST, as cronie: a fixed-time job whose wall time is skipped by spring-forward runs once right after the
    /// jump; one whose wall time repeats at fall-back runs once (the first time). Wildcard jobs skip the
    /// missing wall times and run through the repeated hour in absolute time.
    public func nextFire(after date: Date, in zone: TimeZone) -> Date? {
        let instant = Int64(date.timeIntervalSince1970.rounded(.down))
        // Start two hours of wall clock back: in a repeated hour, an earlier wall time can be a later instant.
        let wallStart = instant + Int64(ZoneOffsets.offset(zone, at: instant)) - 7200
        var best: Int64?
        var stopAfterWall: Int64?
        var day = CivilDate(epochDay: Int(floorDiv(wallStart, 86400)))
        let startMinuteOfDay = Int((wallStart - Int64(day.epochDay) * 86400) / 60)
        for dayIndex in 0..<(366 * 30) {
            if dayIndex > 0 { day = day.next }
            if let stop = stopAfterWall, Int64(day.epochDay) * 86400 > stop { break }
            guard matches(day: day) else { continue }
            for h in hours {
                for m in minutes {
                    if dayIndex == 0 && h * 60 + m < startMinuteOfDay { continue }
                    let wall = Int64(day.epochDay) * 86400 + Int64(h * 3600 + m * 60)
                    if let stop = stopAfterWall, wall > stop { return best.map { Date(timeIntervalSince1970: TimeInterval($0)) } }
                    for t in instants(forWall: wall, zone: zone) where t > instant {
                        if best == nil || t < best! { best = t }
                        if stopAfterWall == nil { stopAfterWall = wall + 7200 }
                    }
                }
            }
        }
        return best.map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// The next `count` fire times after `date`.
    public func nextFires(after date: Date, in zone: TimeZone, count: Int) -> [Date] {
        var out: [Date] = []
        var from = date
        while out.count < count, let next = nextFire(after: from, in: zone) {
            out.append(next)
            from = next
        }
        return out
    }

    /// The instants at which the zone's clock shows `wall` (seconds since the epoch, read as UTC): none in a
    /// spring-forward gap (then, for fixed-time jobs, the instant the clock jumps), two in a fall-back overlap
    /// (wildcard jobs keep both, fixed-time jobs the first).
    func instants(forWall wall: Int64, zone: TimeZone) -> [Int64] {
        // Nearly always: one offset for the whole neighbourhood (no transition within a day and a half).
        let around = ZoneOffsets.span(zone, at: wall - 86400 - 14 * 3600)
        if around.to > wall + 86400 + 14 * 3600 { return [wall - Int64(around.offset)] }
        var offsets = Set<Int>()
        for probe in [wall - 86400, wall, wall + 86400] {
            offsets.insert(ZoneOffsets.offset(zone, at: probe))
        }
        let valid = offsets.map { wall - Int64($0) }
            .filter { Int64(ZoneOffsets.offset(zone, at: $0)) == wall - $0 }
            .sorted()
        if valid.isEmpty {
            guard !isWildcard else { return [] }
            // In the gap: run at the jump, the first instant after the last valid wall time before it.
            let before = wall - Int64(offsets.max()!)
            if let jump = zone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: TimeInterval(before - 7200))) {
                return [Int64(jump.timeIntervalSince1970.rounded())]
            }
            return []
        }
        return isWildcard ? valid : [valid[0]]
    }
}

/// Parsed expressions and zones by their text: a burst of thousands of fires parses each only once.
enum CronCache {
    private static let cache = Mutex<(crons: [String: CronExpression], zones: [String: TimeZone])>(([:], [:]))

    static func cron(_ text: String) -> CronExpression? {
        if let c = cache.withLock({ $0.crons[text] }) { return c }
        guard let c = try? CronExpression(text) else { return nil }
        cache.withLock { if $0.crons.count > 10_000 { $0.crons.removeAll() }; $0.crons[text] = c }
        return c
    }

    static func zone(_ id: String) -> TimeZone? {
        if let z = cache.withLock({ $0.zones[id] }) { return z }
        guard let z = TimeZone(identifier: id) else { return nil }
        cache.withLock { $0.zones[id] = z }
        return z
    }
}

public struct CronError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

