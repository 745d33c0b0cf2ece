import Foundation
import PluginAPI

/// The `dates` parameter, resolved when the job fires, in the instance's zone: `today`, `T-N` (N days ago),
/// `T-10..T-1`, `yyyy-MM-dd`, `yyyy-MM-dd..yyyy-MM-dd`, or a mix as `a..b`.
struct DateSpec {
    static let maxDays = 92

    let zone: TimeZone

    var calendar: Calendar { CalendarDays(zone: zone).calendar }

    func string(_ d: Date) -> String { CalendarDays(zone: zone).string(d) }

    func today(_ now: Date = Date()) -> String { string(now) }

    func day(_ token: String, now: Date) throws -> Date {
        let t = token.trimmingCharacters(in: .whitespaces)
        if t == "today" || t == "T" || t == "T-0" { return calendar.startOfDay(for: now) }
        if t.hasPrefix("T-"), let n = Int(t.dropFirst(2)), (0...3660).contains(n) {
            return calendar.date(byAdding: .day, value: -n, to: calendar.startOfDay(for: now))!
        }
        if t.count == 10, let date = CalendarDays(zone: zone).date(t) { return date }
        throw PluginError(.invalid, "dates: \(token.debugDescription) is not today, T-N or yyyy-MM-dd")
    }

    /// The days a spec names, oldest first.
    func resolve(_ spec: String, now: Date = Date()) throws -> [String] {
        let ends = spec.components(separatedBy: "..")
        guard ends.count == 1 || ends.count == 2 else { throw PluginError(.invalid, "dates: \(spec.debugDescription) has more than one '..'") }
        let a = try day(ends[0], now: now)
        let b = ends.count == 2 ? try day(ends[1], now: now) : a
        guard a <= b else { throw PluginError(.invalid, "dates: \(spec.debugDescription) ends before it starts") }
        var out: [String] = []
        var d = a
        while d <= b {
            out.append(string(d))
            guard out.count <= Self.maxDays else { throw PluginError(.invalid, "dates: at most \(Self.maxDays) days per run") }
            d = calendar.date(byAdding: .day, value: 1, to: d)!
        }
        return out
    }
}
