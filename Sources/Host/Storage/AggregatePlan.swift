import Foundation
import PluginAPI

/// Grouped counts and sums over a collection's live records, as SQL for either backend. Field names are
/// validated identifiers (they become part of the SQL text); bounds are bound parameters after instance and
/// collection.
struct AggregatePlan {
    let sql: String
    let arguments: [SQLValue]
    let sumFields: [String]
    let grouped: Bool

    init(_ r: StoreService.AggregateRequest, dialect d: SQLDialect) throws {
        func checked(_ name: String) throws -> String {
            guard (try? RecordQuery.fieldPattern.wholeMatch(in: name)) != nil else {
                throw PluginError(.invalid, "store.aggregate: \(name.debugDescription) is not a plain top-level field name")
            }
            return name
        }
        guard r.sum.count <= 16 else { throw PluginError(.invalid, "store.aggregate: at most 16 sum fields") }
        let sums = try r.sum.map { d.jsonNumberSum(try checked($0)) }
        var whereSQL = "instance_id = ? AND collection = ?"
        if !r.deletedAsGroup { whereSQL += " AND deleted_at IS NULL" }
        var args: [SQLValue] = []
        var select = "NULL"
        var tail = ""
        if let g = r.groupBy {
            let text = d.jsonText(try checked(g))
            select = r.deletedAsGroup ? "CASE WHEN deleted_at IS NOT NULL THEN 'deleted' ELSE \(text) END" : text
            if let from = r.from { whereSQL += " AND \(text) >= ?"; args.append(.text(from)) }
            if let to = r.to { whereSQL += " AND \(text) <= ?"; args.append(.text(to)) }
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

    func row(_ row: SQLRow) -> StoreService.AggregateRow {
        let sums = (0..<sumFields.count).map { row.double(2 + $0) ?? 0 }
        return StoreService.AggregateRow(group: row.text(0), count: Int(row.int(1) ?? 0), sums: Dictionary(uniqueKeysWithValues: zip(sumFields, sums)))
    }
}
