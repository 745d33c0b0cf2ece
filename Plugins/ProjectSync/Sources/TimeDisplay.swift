import Foundation
import PluginAPI

/// The seed's time-display setting (`GET`/`POST …/config/time-display`): the zone and pattern times are shown
/// in, and whether they read as absolute times or as "3分钟前". Applied to the times in project answers
/// (`display`) and in notification texts ({updated_at}); machine fields stay ISO 8601.
struct TimeDisplay: Sendable, Equatable {
    enum Mode: String, Sendable, CaseIterable { case absolute, relative }

    var timezone: String
    var format: String
    var mode: Mode

    static let stateKey = "time_display"
    static let defaultFormat = "yyyy-MM-dd HH:mm:ss"

    /// The instance's zone and the seed's `2025-10-23 14:30:25`, until an operator saves something else.
    static func defaults(_ config: [String: JSONValue]) -> TimeDisplay {
        TimeDisplay(timezone: ((try? config.string("timezone")) ?? nil) ?? "Asia/Shanghai", format: defaultFormat, mode: .absolute)
    }

    static func load(_ store: StoreService, config: [String: JSONValue]) async throws -> TimeDisplay {
        let saved = try await store.state(stateKey)
        return (try? saved.map { try TimeDisplay.merging($0, into: defaults(config)) }) ?? defaults(config)
    }

    /// The fields of `body` over `base`; anything unknown or invalid is refused by name.
    static func merging(_ body: JSONValue, into base: TimeDisplay) throws -> TimeDisplay {
        guard case .object(let o) = body else { throw PluginError(.invalid, "body must be a JSON object: {\"timezone\", \"format\", \"mode\"}") }
        for k in o.keys where !["timezone", "format", "mode"].contains(k) {
            throw PluginError(.invalid, "unknown field \(k.debugDescription) (timezone, format, mode)")
        }
        var d = base
        if let v = o["timezone"] {
            guard let z = v.stringValue, TimeZone(identifier: z) != nil else { throw PluginError(.invalid, "timezone: expected a zone name such as Asia/Shanghai") }
            d.timezone = z
        }
        if let v = o["format"] {
            // Date-pattern letters and separators only: a pattern is shown to every reader of the instance.
            guard let f = v.stringValue, (1...64).contains(f.count), f.contains(where: \.isLetter),
                  f.allSatisfy({ "yMdHhmsSaEZzXxG".contains($0) || " -/:.,年月日时分秒T'".contains($0) }) else {
                throw PluginError(.invalid, "format: expected a date pattern of 1-64 characters such as yyyy-MM-dd HH:mm:ss")
            }
            d.format = f
        }
        if let v = o["mode"] {
            guard let m = v.stringValue.flatMap(Mode.init(rawValue:)) else { throw PluginError(.invalid, "mode: expected absolute or relative") }
            d.mode = m
        }
        return d
    }

    var json: JSONValue { ["timezone": .string(timezone), "format": .string(format), "mode": .string(mode.rawValue)] }

    /// The time as readers see it. Relative: 刚刚 / N分钟前 / N小时前 / N天前 (up to 30 days, then absolute).
    func show(_ date: Date, now: Date = Date()) -> String {
        if mode == .relative {
            let s = now.timeIntervalSince(date)
            if s >= 0 && s < 60 { return "刚刚" }
            if s >= 0 && s < 3_600 { return "\(Int(s / 60))分钟前" }
            if s >= 0 && s < 86_400 { return "\(Int(s / 3_600))小时前" }
            if s >= 0 && s < 30 * 86_400 { return "\(Int(s / 86_400))天前" }
        }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: timezone) ?? TimeZone(identifier: "Asia/Shanghai")!
        f.dateFormat = format
        return f.string(from: date)
    }
}
