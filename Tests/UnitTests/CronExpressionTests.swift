import Foundation
import Testing

@testable import Host

@Suite("Cron dialect and next-fire times")
struct CronExpressionTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let newYork = TimeZone(identifier: "America/New_York")!
    static let berlin = TimeZone(identifier: "Europe/Berlin")!

    /// ISO-8601 with offset, in the given zone.
    static func iso(_ d: Date, _ zone: TimeZone) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = zone
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }

    static func date(_ s: String) -> Date { ISO8601DateFormatter().date(from: s)! }

    func fires(_ expr: String, from: String, count: Int = 5, zone: TimeZone = utc) throws -> [String] {
        try CronExpression(expr).nextFires(after: Self.date(from), in: zone, count: count).map { Self.iso($0, zone) }
    }

    @Test func stepsListsRangesAndNames() async throws {
        #expect(try fires("*/15 * * * *", from: "2026-11-23T10:07:00Z", count: 3) == ["2026-11-23T10:15:00Z", "2026-11-23T10:30:00Z", "2026-11-23T10:45:00Z"])
        #expect(try fires("1-30/10 9 * * *", from: "2026-11-23T00:00:00Z", count: 4) == ["2026-11-23T09:01:00Z", "2026-11-23T09:11:00Z", "2026-11-23T09:21:00Z", "2026-11-24T09:01:00Z"])
        #expect(try fires("0 1,10,15,21 * * *", from: "2026-11-23T10:00:00Z", count: 3) == ["2026-11-23T15:00:00Z", "2026-11-23T21:00:00Z", "2026-11-24T01:00:00Z"])
        #expect(try fires("0 9 * * mon-fri", from: "2026-11-27T12:00:00Z", count: 2) == ["2026-11-30T09:00:00Z", "2026-12-01T09:00:00Z"])
        #expect(try fires("0 0 1 JAN,jul *", from: "2026-02-01T00:00:00Z", count: 2) == ["2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"])
        #expect(try fires("5/20 * * * *", from: "2026-11-23T10:00:00Z", count: 3) == ["2026-11-23T10:05:00Z", "2026-11-23T10:25:00Z", "2026-11-23T10:45:00Z"])
        #expect(try fires("*/10 9-23 * * *", from: "2026-11-23T23:45:00Z", count: 2) == ["2026-11-23T23:50:00Z", "2026-11-24T09:00:00Z"])
    }

    @Test func sundayIsZeroAndSeven() async throws {
        let zero = try fires("0 12 * * 0", from: "2026-11-23T00:00:00Z", count: 2)
        #expect(zero == ["2026-11-29T12:00:00Z", "2026-12-06T12:00:00Z"])
        #expect(try fires("0 12 * * 7", from: "2026-11-23T00:00:00Z", count: 2) == zero)
        #expect(try fires("0 12 * * SUN", from: "2026-11-23T00:00:00Z", count: 2) == zero)
    }

    @Test func dayOfMonthOrDayOfWeekWhenBothAreRestricted() async throws {
        // The 1st of the month OR any Monday.
        #expect(try fires("0 0 1 * mon", from: "2026-11-24T00:00:00Z", count: 3) == ["2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z", "2026-12-07T00:00:00Z"])
        // A star-step in day-of-week keeps the AND rule (cronie: the field starts with '*').
        // 13th AND Sunday (*/7 over 0-7 is 0 and 7): 2026-11-13 is a Friday, 2026-12-13 a Sunday.
        #expect(try fires("0 0 13 * */7", from: "2026-11-01T00:00:00Z", count: 1) == ["2026-12-13T00:00:00Z"])
    }

    @Test func macros() async throws {
        #expect(try fires("@hourly", from: "2026-11-23T10:07:00Z", count: 1) == ["2026-11-23T11:00:00Z"])
        #expect(try fires("@daily", from: "2026-11-23T10:07:00Z", count: 1) == ["2026-11-24T00:00:00Z"])
        #expect(try fires("@midnight", from: "2026-11-23T10:07:00Z", count: 1) == ["2026-11-24T00:00:00Z"])
        #expect(try fires("@weekly", from: "2026-11-23T10:07:00Z", count: 1) == ["2026-11-29T00:00:00Z"])
        #expect(try fires("@monthly", from: "2026-11-23T10:07:00Z", count: 1) == ["2026-12-01T00:00:00Z"])
        #expect(try fires("@yearly", from: "2026-11-23T10:07:00Z", count: 1) == ["2027-01-01T00:00:00Z"])
        #expect(try fires("@annually", from: "2026-11-23T10:07:00Z", count: 1) == ["2027-01-01T00:00:00Z"])
    }

    @Test func leapYearsAndMonthEnds() async throws {
        #expect(try fires("0 0 29 2 *", from: "2026-01-01T00:00:00Z", count: 2) == ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"])
        #expect(try fires("0 0 31 * *", from: "2026-11-01T00:00:00Z", count: 3) == ["2026-12-31T00:00:00Z", "2027-01-31T00:00:00Z", "2027-03-31T00:00:00Z"])
        #expect(try fires("59 23 30 * *", from: "2027-02-01T00:00:00Z", count: 1) == ["2027-03-30T23:59:00Z"])
    }

    @Test func timeZonesAndDaylightSavingLikeCronie() async throws {
        // Asia/Shanghai has no DST: 07:00 local is 23:00 UTC the day before.
        let shanghai = TimeZone(identifier: "Asia/Shanghai")!
        #expect(try fires("0 7 * * *", from: "2026-11-23T00:00:00Z", count: 1, zone: shanghai) == ["2026-11-24T07:00:00+08:00"])

        // New York springs forward 2026-03-08 02:00 -> 03:00: 02:30 does not exist, the job runs once at 03:00.
        #expect(try fires("30 2 * * *", from: "2026-03-07T12:00:00Z", count: 3, zone: Self.newYork)
                == ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"])
        // Several skipped fixed times still run once.
        #expect(try fires("0,15,30,45 2 * * *", from: "2026-03-08T06:00:00Z", count: 2, zone: Self.newYork)
                == ["2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"])
        // Falls back 2026-11-01 02:00 -> 01:00: 01:30 happens twice, the fixed-time job runs once.
        #expect(try fires("30 1 * * *", from: "2026-10-31T12:00:00Z", count: 2, zone: Self.newYork)
                == ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"])
        // A wildcard job runs through the repeated hour in absolute time.
        #expect(try fires("0 * * * *", from: "2026-11-01T04:30:00Z", count: 3, zone: Self.newYork)
                == ["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"])
        // ...and skips wall times that do not exist.
        #expect(try fires("0 * * * *", from: "2026-03-08T06:30:00Z", count: 2, zone: Self.newYork)
                == ["2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"])

        // Berlin: 2026-03-29 02:00 -> 03:00 and 2026-10-25 03:00 -> 02:00.
        #expect(try fires("30 2 * * *", from: "2026-03-28T12:00:00Z", count: 2, zone: Self.berlin)
                == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"])
        #expect(try fires("30 2 * * *", from: "2026-10-24T12:00:00Z", count: 2, zone: Self.berlin)
                == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"])
    }

    @Test func errorsNameTheFieldTheTokenAndWhy() {
        func error(_ e: String) -> String {
            do { _ = try CronExpression(e); return "no error" } catch { return error.message }
        }
        #expect(error("61 * * * *") == "minute field: 61 is out of range 0-59")
        #expect(error("* 24 * * *") == "hour field: 24 is out of range 0-23")
        #expect(error("* * 0 * *") == "day-of-month field: 0 is out of range 1-31")
        #expect(error("* * * 13 *") == "month field: 13 is out of range 1-12")
        #expect(error("* * * * 8") == "day-of-week field: 8 is out of range 0-7")
        #expect(error("* * * foo *") == "month field: \"foo\" is not a number or a name (JAN-DEC)")
        #expect(error("* * * * funday") == "day-of-week field: \"funday\" is not a number or a name (SUN-SAT)")
        #expect(error("x * * * *") == "minute field: \"x\" is not a number")
        #expect(error("*/0 * * * *") == "minute field: step must be at least 1, got 0")
        #expect(error("*/a * * * *") == "minute field: step \"a\" is not a number")
        #expect(error("30-10 * * * *") == "minute field: range 30-10 goes backwards (30 > 10)")
        #expect(error("1,,2 * * * *") == "minute field: empty list item in \"1,,2\"")
        #expect(error("* * * *") == "expected 5 fields (minute hour day-of-month month day-of-week), got 4")
        #expect(error("* * * * * *") == "expected 5 fields (minute hour day-of-month month day-of-week), got 6")
        #expect(error("@reboot") == "unknown macro \"@reboot\" (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)")
        #expect(error("0 0 30 2 *") == "day-of-month field: day 30 never occurs in the chosen month(s), so the expression never fires")
        #expect(error("") == "expected 5 fields (minute hour day-of-month month day-of-week), got 0")
    }
}

/// The remembered offsets answer exactly what the zone answers, across DST and offset changes.
@Suite("Zone offsets by span")
struct ZoneOffsetTests {
    @Test(arguments: ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Shanghai", "America/Santiago", "Pacific/Apia", "UTC"])
    func rememberedOffsetsEqualTheZones(_ id: String) throws {
        let zone = try #require(TimeZone(identifier: id))
        // Every 37 minutes over three years (crossing each transition), forwards then backwards, then around each transition.
        let start: Int64 = 1_640_995_200, end: Int64 = start + 3 * 365 * 86400
        var probes = Array(stride(from: start, to: end, by: 37 * 60))
        probes += probes.reversed()
        var t = Date(timeIntervalSince1970: TimeInterval(start))
        while let next = zone.nextDaylightSavingTimeTransition(after: t), next.timeIntervalSince1970 < Double(end) {
            let s = Int64(next.timeIntervalSince1970)
            probes += [s - 3601, s - 1, s, s + 1, s + 3600]
            t = next
        }
        for p in probes {
            #expect(ZoneOffsets.offset(zone, at: p) == zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(p))), "\(id) at \(p)")
        }
    }
}

@Suite("Misfire policy")
struct MisfirePolicyTests {
    /// The store finds a schedule due by millisecond values (rounded); the plan must agree, or the fire is lost.
    @Test func aFireDueAtTheStoresMillisecondIsPlannedNotPassedOver() {
        let fire = Date(millis: 1_796_000_000_000)
        var s = ScheduleRecord(instance: "i", job: "j", cron: "0 0 1 1 *")
        s.nextFireAt = fire
        s.nextRunAt = fire
        // 0.4 ms before the fire: the same millisecond once rounded, as the store compares it.
        let now = fire.addingTimeInterval(-0.0004)
        #expect(now.millis == fire.millis)
        let plan = MisfirePolicy.plan(s, now: now)
        #expect(plan.runs.count == 1 && plan.runs.first?.status == .queued, "\(plan.runs)")
        #expect((plan.schedule.nextFireAt ?? .distantPast) > fire)
    }
}
