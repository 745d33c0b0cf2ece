import Foundation
import Synchronization

/// A zone's offset from UTC at an instant, remembered per span between the zone's transitions. Asking the
/// zone (ICU, behind a lock) costs microseconds; a burst of ten thousand fires asks it several times per fire.
enum ZoneOffsets {
    struct Span {
        var from: Int64
        /// The zone's next transition after `from` (exclusive end), or `Int64.max` when it has none.
        var to: Int64
        var offset: Int
    }

    private static let spans = Mutex<[String: [Span]]>([:])
    static let maxSpansPerZone = 64

    /// Seconds east of UTC in `zone` at `seconds` since the epoch.
    static func offset(_ zone: TimeZone, at seconds: Int64) -> Int { span(zone, at: seconds).offset }

    /// A span of constant offset that holds `seconds`.
    static func span(_ zone: TimeZone, at seconds: Int64) -> Span {
        let id = zone.identifier
        if let hit = spans.withLock({ $0[id]?.first { $0.from <= seconds && seconds < $0.to } }) { return hit }
        let instant = Date(timeIntervalSince1970: TimeInterval(seconds))
        let offset = zone.secondsFromGMT(for: instant)
        let next = zone.nextDaylightSavingTimeTransition(after: instant).map { Int64($0.timeIntervalSince1970.rounded(.up)) } ?? Int64.max
        let span = Span(from: seconds, to: max(next, seconds + 1), offset: offset)
        spans.withLock { all in
            var list = all[id] ?? []
            if list.count >= maxSpansPerZone { list.removeAll() }
            list.append(span)
            all[id] = list
        }
        return span
    }
}
