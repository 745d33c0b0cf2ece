import Foundation

/// Query strings and path segments for upstream URLs: everything but RFC 3986 unreserved characters
/// percent-encoded (passwords and secrets may hold '&', '+', '=', spaces, non-ASCII...).
public enum URLEncoding {
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    public static func component(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? s }

    /// `k=v&k=v`, in the given order.
    public static func query(_ items: [(String, String)]) -> String {
        items.map { "\(component($0.0))=\(component($0.1))" }.joined(separator: "&")
    }
}

/// Calendar days (`yyyy-MM-dd`) in an upstream's time zone: what "today", "yesterday" and a date
/// parameter mean for it.
public struct CalendarDays: Sendable {
    public let zone: TimeZone

    public init(zone: TimeZone) { self.zone = zone }

    public var calendar: Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = zone
        return c
    }

    /// yyyy-MM-dd of `date` in the zone, `daysBefore` days earlier.
    public func string(_ date: Date, minus daysBefore: Int = 0) -> String {
        let d = daysBefore == 0 ? date : calendar.date(byAdding: .day, value: -daysBefore, to: date)!
        let c = calendar.dateComponents([.year, .month, .day], from: d)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    /// The start of a yyyy-MM-dd (or yyyyMMdd) day in the zone; nil for anything that is not a real date.
    public func date(_ s: String) -> Date? {
        let digits = s.replacingOccurrences(of: "-", with: "")
        guard digits.count == 8, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let y = Int(digits.prefix(4)),
              let m = Int(digits.dropFirst(4).prefix(2)), let d = Int(digits.suffix(2)),
              let date = calendar.date(from: DateComponents(year: y, month: m, day: d)),
              calendar.dateComponents([.year, .month, .day], from: date) == DateComponents(year: y, month: m, day: d)
        else { return nil }
        return date
    }
}
