/// Floor division (towards negative infinity): days and seconds of times before 1970 too.
public func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

/// A day of the proleptic Gregorian calendar, with arithmetic that needs no Calendar object: fast enough to
/// scan years of days for one next-fire computation, or to date every record of an ingest.
public struct CivilDate: Equatable, Sendable {
    public var year: Int, month: Int, day: Int
    /// Days since 1970-01-01.
    public var epochDay: Int

    public init(epochDay z0: Int) {
        // Howard Hinnant's civil_from_days.
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        epochDay = z0
    }

    /// 0 = Sunday (1970-01-01 was a Thursday).
    public var weekday: Int { ((epochDay % 7) + 7 + 4) % 7 }

    public var next: CivilDate { CivilDate(epochDay: epochDay + 1) }

    /// Appends `yyyy-MM-dd`.
    public func write(to out: inout [UInt8]) {
        Self.appendDigits(year, 4, to: &out)
        out.append(UInt8(ascii: "-"))
        Self.appendDigits(month, 2, to: &out)
        out.append(UInt8(ascii: "-"))
        Self.appendDigits(day, 2, to: &out)
    }

    /// Appends `v` as exactly `n` decimal digits, zero-padded.
    public static func appendDigits(_ v: Int, _ n: Int, to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: n))
        var v = v, i = start + n - 1
        while v > 0, i >= start { out[i] = UInt8(ascii: "0") + UInt8(v % 10); v /= 10; i -= 1 }
    }
}
