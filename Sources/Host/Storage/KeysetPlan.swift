import Foundation

/// Keyset paging for record lists: WHERE and ORDER BY for the query's filters, key range, order and cursor.
/// The SQL's arguments follow instance and collection.
struct KeysetPlan {
    var whereSQL = ""
    var orderSQL = ""
    var arguments: [SQLValue] = []
    let order: RecordQuery.Order

    init(query q: RecordQuery, dialect d: SQLDialect) throws {
        order = q.order
        if !q.includeDeleted { whereSQL += " AND deleted_at IS NULL" }
        for f in q.filters {
            // Field names are validated identifiers; values are bound.
            whereSQL += " AND \(d.jsonText(f.field)) = ?"
            arguments.append(.text(f.value))
        }
        if let from = q.keyFrom { whereSQL += " AND key >= ?"; arguments.append(.text(from)) }
        if let to = q.keyTo { whereSQL += " AND key <= ?"; arguments.append(.text(to)) }
        let cmp = q.descending ? "<" : ">"
        let dir = q.descending ? "DESC" : "ASC"
        let key = d.keyOrder
        if let c = q.cursor {
            let cursor = try PageCursor.decode(c)
            if q.order == .key {
                whereSQL += " AND \(key) \(cmp) ?"
                arguments.append(.text(cursor.k))
            } else {
                guard let v = cursor.v else { throw HostError.invalid("cursor does not belong to this ordering") }
                let col = q.order.rawValue
                whereSQL += " AND (\(col) \(cmp) ? OR (\(col) = ? AND \(key) \(cmp) ?))"
                arguments += [.int(v), .int(v), .text(cursor.k)]
            }
        }
        orderSQL = q.order == .key ? "\(key) \(dir)" : "\(q.order.rawValue) \(dir), \(key) \(dir)"
    }

    /// Trims the look-ahead row and makes the next cursor.
    func page(_ rows: [StoredRecord], limit: Int) -> RecordPage {
        guard rows.count > limit else { return RecordPage(records: rows, nextCursor: nil) }
        let kept = Array(rows.prefix(limit))
        let last = kept[kept.count - 1]
        let v: Int64? =
            switch order {
            case .key: nil
            case .syncedAt: last.syncedAt.millis
            case .changedAt: last.changedAt.millis
            }
        return RecordPage(records: kept, nextCursor: PageCursor(v: v, k: last.key).encoded)
    }
}
