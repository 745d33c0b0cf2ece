import Foundation
import PluginAPI

/// Grouped counts and sums over a collection's live records, as SQL for either backend. Field names are
/// validated identifiers (they become part of the SQL text); bounds are bound parameters.
struct AggregatePlan {
    let sql: String
    let arguments: [String]
    let sumFields: [String]
    let grouped: Bool

    init(_ r: StoreService.AggregateRequest, dialect d: SQLDialect) throws {
        func field(_ name: String) throws -> String {
            guard (try? RecordQuery.fieldPattern.wholeMatch(in: name)) != nil else {
                throw PluginError(.invalid, "store.aggregate: \(name.debugDescription) is not a plain top-level field name")
            }
            return d == .sqlite ? "json_extract(data, '$.\(name)')" : "(data->>'\(name)')"
        }
        guard r.sum.count <= 16 else { throw PluginError(.invalid, "store.aggregate: at most 16 sum fields") }
        var placeholder = 2
        func p() -> String {
            placeholder += 1
            return d == .sqlite ? "?" : "$\(placeholder)"
        }
        let sums = try r.sum.map { name -> String in
            let f = try field(name)
            return d == .sqlite ? "TOTAL(\(f))" : "COALESCE(SUM((\(f))::float8), 0)"
        }
        var whereSQL = "instance_id = \(d == .sqlite ? "?" : "$1") AND collection = \(d == .sqlite ? "?" : "$2")"
        if !r.deletedAsGroup { whereSQL += " AND deleted_at IS NULL" }
        var args: [String] = []
        var select = "NULL"
        var tail = ""
        if let g = r.groupBy {
            let f = try field(g)
            let text = d == .sqlite ? "CAST(\(f) AS TEXT)" : f
            select = r.deletedAsGroup ? "CASE WHEN deleted_at IS NOT NULL THEN 'deleted' ELSE \(text) END" : text
            if let from = r.from { whereSQL += " AND \(text) >= \(p())"; args.append(from) }
            if let to = r.to { whereSQL += " AND \(text) <= \(p())"; args.append(to) }
            tail = " GROUP BY 1 ORDER BY 1"
        } else if r.deletedAsGroup {
            throw PluginError(.invalid, "store.aggregate: deleted_as_group needs group_by")
        } else if r.from != nil || r.to != nil {
            throw PluginError(.invalid, "store.aggregate: from/to bound the group field; give group_by")
        }
        sql = "SELECT \(select), COUNT(*)\(sums.map { ", \($0)" }.joined()) FROM records WHERE \(whereSQL)\(tail)"
        arguments = args
        sumFields = r.sum
        grouped = r.groupBy != nil
    }

    func row(group: String?, count: Int64, sums: [Double]) -> StoreService.AggregateRow {
        StoreService.AggregateRow(group: group, count: Int(count), sums: Dictionary(uniqueKeysWithValues: zip(sumFields, sums)))
    }
}
