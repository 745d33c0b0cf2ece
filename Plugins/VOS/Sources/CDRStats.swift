import Foundation
import PluginAPI

/// `GET instances/{id}/cdr-stats?from=&to=`: CDR count, fee and holdTime per day and in total (the legacy
/// monitoring queries), computed by the host's store, with each day's completeness. A CDR counts on the day
/// its call started (`call_date`, the node's zone), not the day it was synced for.
struct CDRStats {
    let node: VOSNode
    let context: RouteContext

    func answer(_ query: [String: String]) async throws -> RouteResponse {
        let to = try query["to"].map { try node.days(from: $0, to: $0)[0] } ?? node.day(Date())
        let from = try query["from"].map { try node.days(from: $0, to: $0)[0] } ?? node.day(Date(), minus: 6)
        guard from <= to else { throw PluginError(.invalid, "from (\(from)) is after to (\(to))") }
        let rows = try await context.store.aggregate(.init(collection: "cdrs", groupBy: "call_date", sum: ["fee", "holdTime"], from: from, to: to))
        var days: [JSONValue] = []
        var total = (cdrs: 0, fee: 0.0, hold: 0.0)
        let byDay = Dictionary(uniqueKeysWithValues: rows.map { ($0.group ?? "", $0) })
        let range = try node.days(from: from, to: to)
        guard range.count <= 92 else { throw PluginError(.invalid, "from..to spans \(range.count) days; at most 92") }
        for day in range {
            let row = byDay[day]
            let synced = try await context.store.state(CDRSync.dayState(day))
            let fee = ((row?.sums["fee"] ?? 0) * 10_000).rounded() / 10_000
            days.append([
                "date": .string(day), "cdrs": .int(Int64(row?.count ?? 0)), "fee": .double(fee),
                "hold_time": .int(Int64(row?.sums["holdTime"] ?? 0)),
                "synced": .bool(synced != nil), "complete": synced?["complete"] ?? .bool(false),
                "last_synced_at": synced?["synced_at"] ?? .null,
            ])
            total.cdrs += row?.count ?? 0
            total.fee += row?.sums["fee"] ?? 0
            total.hold += row?.sums["holdTime"] ?? 0
        }
        let body: JSONValue = [
            "node": .string(context.instance?.id ?? ""), "from": .string(from), "to": .string(to), "days": .array(days),
            "totals": ["cdrs": .int(Int64(total.cdrs)), "fee": .double((total.fee * 10_000).rounded() / 10_000), "hold_time": .int(Int64(total.hold))],
        ]
        return RouteResponse(body: String(decoding: body.jsonBytes, as: UTF8.self))
    }
}
