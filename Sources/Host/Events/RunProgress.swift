import Foundation
import PluginAPI
import Synchronization

/// How far each running run of this host is, as its plugin last reported (`schedule.progress`): one bar per
/// name (a backfill's days), kept in memory until the run ends. Runs list and run detail show it; the events
/// stream carries each change.
public final class RunProgress: Sendable {
    public struct Bar: Sendable, Equatable {
        public var bar: String
        public var done: Int
        public var total: Int
        public var label: String?

        var fields: [String: JSONValue] {
            ["bar": .string(bar), "done": .int(Int64(done)), "total": .int(Int64(total)), "label": label.map(JSONValue.string) ?? .null]
        }
    }

    /// Bars per run, in the order they were first reported.
    private let state = Mutex<[String: [Bar]]>([:])

    public init() {}
    static let maxBarsPerRun = 64

    /// Records a report; false when the run already has `maxBarsPerRun` other bars.
    @discardableResult
    func report(run: String, _ bar: Bar) -> Bool {
        state.withLock { s in
            var bars = s[run] ?? []
            if let i = bars.firstIndex(where: { $0.bar == bar.bar }) {
                bars[i] = bar
            } else {
                guard bars.count < Self.maxBarsPerRun else { return false }
                bars.append(bar)
            }
            s[run] = bars
            return true
        }
    }

    public func bars(of run: String) -> [Bar] { state.withLock { $0[run] ?? [] } }

    func ended(_ run: String) { _ = state.withLock { $0.removeValue(forKey: run) } }
}
