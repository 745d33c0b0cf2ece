import Foundation

/// The calendar day (yyyy-MM-dd, in the node's zone) a CDR's `start` (epoch milliseconds) falls on: the day
/// `cdr-stats` groups by, which is not always the day it was synced for (a call across midnight, a node whose
/// GetCdr day is not the caller's). Runs for every CDR at ingest, so it is integer arithmetic with the zone's
/// offset looked up once per hour and the last day's text kept.
struct CallDate {
    let zone: TimeZone
    private var offsets: [Int64: Int64] = [:]
    private var lastDay: Int64 = .min
    private var lastText: [UInt8] = []

    init(zone: TimeZone) { self.zone = zone }

    /// The day's text as bytes, e.g. `2026-11-20`.
    mutating func day(ms: Int64) -> [UInt8] {
        let hour = ms >= 0 ? ms / 3_600_000 : (ms - 3_599_999) / 3_600_000
        let offset: Int64
        if let o = offsets[hour] {
            offset = o
        } else {
            offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(hour) * 3600))) * 1000
            if offsets.count > 10_000 { offsets.removeAll() }
            offsets[hour] = offset
        }
        let local = ms + offset
        let days = local >= 0 ? local / 86_400_000 : (local - 86_399_999) / 86_400_000
        if days != lastDay {
            lastDay = days
            lastText = Self.civil(days)
        }
        return lastText
    }

    /// Days since 1970-01-01 as yyyy-MM-dd (H. Hinnant's civil_from_days).
    static func civil(_ days: Int64) -> [UInt8] {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func digits(_ v: Int64, _ n: Int) -> [UInt8] {
            var out = [UInt8](repeating: UInt8(ascii: "0"), count: n)
            var v = v
            for i in stride(from: n - 1, through: 0, by: -1) { out[i] = UInt8(ascii: "0") + UInt8(v % 10); v /= 10 }
            return out
        }
        return digits(y, 4) + [UInt8(ascii: "-")] + digits(m, 2) + [UInt8(ascii: "-")] + digits(d, 2)
    }
}
