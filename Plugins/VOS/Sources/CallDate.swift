import Foundation
import PluginAPI

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
        let hour = floorDiv(ms, 3_600_000)
        let offset: Int64
        if let o = offsets[hour] {
            offset = o
        } else {
            offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(hour) * 3600))) * 1000
            if offsets.count > 10_000 { offsets.removeAll() }
            offsets[hour] = offset
        }
        let local = ms + offset
        let days = floorDiv(local, 86_400_000)
        if days != lastDay {
            lastDay = days
            lastText = Self.civil(days)
        }
        return lastText
    }

    /// Days since 1970-01-01 as yyyy-MM-dd.
    static func civil(_ days: Int64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(10)
        CivilDate(epochDay: Int(days)).write(to: &out)
        return out
    }
}
