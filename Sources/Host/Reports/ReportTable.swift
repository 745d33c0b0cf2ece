import Foundation
import PluginAPI

/// One value of a report's table: numbers stay numbers (a spreadsheet sums them), the rest is text.
public enum ReportCell: Sendable, Equatable {
    case text(String)
    case number(Double)
    case empty

    var display: String {
        switch self {
        case .text(let s): s
        case .number(let n): ReportCell.format(n)
        case .empty: ""
        }
    }

    /// Integers without a decimal point; others with up to 4 decimals.
    static func format(_ n: Double) -> String {
        if n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
        var s = String(format: "%.4f", n)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }
}

/// A report's rows for one firing: what it read (the instance's collection, filtered to the date range in the
/// instance's zone), as columns with labels in the report's language, grouped and summed as asked.
public struct ReportTable: Sendable, Equatable {
    public struct Column: Sendable, Equatable {
        public var field: String
        public var label: String
    }

    public var title: String
    public var instance: String
    public var collection: String
    public var zone: String
    public var firstDay: String?
    public var lastDay: String?
    public var columns: [Column]
    public var rows: [[ReportCell]]
    /// The sums of the `sums` columns over every row (first column labelled 合计 / Total); nil without sums.
    public var totals: [ReportCell]?
    public var language: String

    /// At most this many records are read for one report.
    static let maxRecords = 200_000

    var zh: Bool { language == "zh-CN" }

    /// "2026-11-26 – 2026-12-02", or "全部 / all".
    public var rangeText: String {
        guard let a = firstDay, let b = lastDay else { return zh ? "全部数据" : "all records" }
        return a == b ? a : "\(a) – \(b)"
    }

    /// Reads and shapes the table for a report firing at `fire`. `view` is the plugin view the report names (its
    /// collection, columns and labels).
    static func build(_ spec: ReportSpec, view: ViewSpec?, zone: TimeZone, fire: Date, store: any HostDatabase) async throws -> ReportTable {
        guard let collection = spec.collection ?? view?.collection else { throw HostError.invalid("report \(spec.id): the view reads no collection") }
        let zh = spec.language == "zh-CN"
        var days: (first: String, last: String)?
        if let r = spec.range.flatMap(DayRange.init) { days = r.days(firing: fire, in: zone) }

        var q = RecordQuery()
        q.limit = 1000
        for (field, value) in spec.filters.sorted(by: { $0.key < $1.key }) { q.filters.append((field, value)) }
        if spec.dateField == "@key", let d = days {
            // Date-keyed: the key range does the filtering (`yyyy-MM-dd` keys, a day's later suffixes included).
            q.keyFrom = d.first
            q.keyTo = d.last + "\u{10FFFF}"
        }
        q = try q.validated()
        var records: [StoredRecord] = []
        while true {
            let page = try await store.records(instance: spec.instance, collection: collection, query: q)
            records += page.records
            guard records.count <= maxRecords else {
                throw HostError.invalid("report \(spec.id): more than \(maxRecords) records; narrow it with a range or filters")
            }
            guard let next = page.nextCursor else { break }
            q.cursor = next
        }
        if let field = spec.dateField, field != "@key", let d = days {
            records = records.filter { r in
                guard let day = Self.value(r, field, zone: zone).dayPrefix else { return false }
                return day >= d.first && day <= d.last
            }
        }
        if let field = spec.dateField {
            records.sort { (Self.value($0, field, zone: zone).sortText, $0.key) < (Self.value($1, field, zone: zone).sortText, $1.key) }
        }

        // Columns and their labels: the report's fields, else the view's, else the key and the data's fields.
        var fields = spec.fields
        if fields.isEmpty, let v = view { fields = v.kind == .chart ? [v.chart?.x ?? "@key"] + (v.chart?.series.map(\.field) ?? []) : v.columns.map(\.field) }
        if fields.isEmpty { fields = ["@key"] + ExportRoutes.topLevelFields(Array(records.prefix(100))) }
        let labels = Dictionary(((view?.columns ?? []) + (view?.chart?.series ?? [])).map { ($0.field, $0.label) }, uniquingKeysWith: { a, _ in a })
        func label(_ f: String) -> String {
            if let l = labels[f] { return zh ? l.zh : l.en }
            switch f {
            case "@key": return zh ? "键" : "Key"
            case "@synced_at": return zh ? "同步时间" : "Synced at"
            case "@changed_at": return zh ? "变更时间" : "Changed at"
            case "@count": return zh ? "记录数" : "Records"
            default: return f
            }
        }

        var table = ReportTable(title: spec.name, instance: spec.instance, collection: collection, zone: zone.identifier, firstDay: days?.first,
                                lastDay: days?.last, columns: [], rows: [], totals: nil, language: spec.language)
        if spec.groupBy.isEmpty {
            table.columns = fields.map { Column(field: $0, label: label($0)) }
            table.rows = records.map { r in fields.map { Self.cell(Self.value(r, $0, zone: zone), zh: zh) } }
        } else {
            // One row per group (in order of first appearance, i.e. by date when dated): the group's values, a count, the sums.
            var order: [[String]] = []
            var groups: [[String]: (count: Int, sums: [Double])] = [:]
            for r in records {
                let key = spec.groupBy.map { Self.value(r, $0, zone: zone).text }
                var g = groups[key] ?? (0, Array(repeating: 0, count: spec.sums.count))
                if g.count == 0 { order.append(key) }
                g.count += 1
                for (i, f) in spec.sums.enumerated() { g.sums[i] += Self.value(r, f, zone: zone).number ?? 0 }
                groups[key] = g
            }
            table.columns = (spec.groupBy + ["@count"] + spec.sums).map { Column(field: $0, label: label($0)) }
            table.rows = order.map { key in
                let g = groups[key]!
                return key.map { $0.isEmpty ? .empty : .text($0) } + [.number(Double(g.count))] + g.sums.map { .number($0) }
            }
        }
        if !spec.sums.isEmpty {
            var totals = table.columns.map { _ in ReportCell.empty }
            for (i, c) in table.columns.enumerated() where spec.sums.contains(c.field) || c.field == "@count" {
                totals[i] = .number(table.rows.reduce(0) { s, row in if case .number(let n) = row[i] { s + n } else { s } })
            }
            if let first = table.columns.indices.first(where: { totals[$0] == .empty }) { totals[first] = .text(zh ? "合计" : "Total") }
            table.totals = totals
        }
        return table
    }

    /// A field of a record: `@key`, `@synced_at`, `@changed_at` or a data path (`parts.score`).
    enum FieldValue {
        case json(JSONValue?)
        case key(String)
        /// Shown as `yyyy-MM-dd HH:mm:ss` in the instance's zone.
        case time(Date, TimeZone)

        var number: Double? {
            if case .json(let v?) = self {
                switch v {
                case .int(let i): return Double(i)
                case .double(let d): return d
                case .string(let s): return Double(s)
                default: return nil
                }
            }
            return nil
        }

        var text: String {
            switch self {
            case .key(let k): k
            case .time(let d, let zone):
                { () -> String in
                    var c = Calendar(identifier: .gregorian)
                    c.timeZone = zone
                    let p = c.dateComponents([.year, .month, .day, .hour, .minute, .second], from: d)
                    return String(format: "%04d-%02d-%02d %02d:%02d:%02d", p.year ?? 0, p.month ?? 0, p.day ?? 0, p.hour ?? 0, p.minute ?? 0, p.second ?? 0)
                }()
            case .json(nil), .json(.null?): ""
            case .json(.string(let s)?): s
            case .json(let v?): String(decoding: v.jsonBytes, as: UTF8.self)
            }
        }

        var sortText: String { text }

        /// The `yyyy-MM-dd` a value starts with, if it does.
        var dayPrefix: String? {
            let t = text
            guard t.count >= 10 else { return nil }
            let d = String(t.prefix(10))
            return d.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil ? d : nil
        }
    }

    static func value(_ r: StoredRecord, _ field: String, zone: TimeZone) -> FieldValue {
        switch field {
        case "@key": return .key(r.key)
        case "@synced_at": return .time(r.syncedAt, zone)
        case "@changed_at": return .time(r.changedAt, zone)
        default:
            var v: JSONValue? = r.json
            for part in field.split(separator: ".") { v = v?[String(part)] }
            return .json(v)
        }
    }

    static func cell(_ v: FieldValue, zh: Bool) -> ReportCell {
        switch v {
        case .key(let k): return .text(k)
        case .time: return .text(v.text)
        case .json(nil), .json(.null?): return .empty
        case .json(.int(let i)?): return .number(Double(i))
        case .json(.double(let d)?): return .number(d)
        case .json(.bool(let b)?): return .text(b ? (zh ? "是" : "yes") : (zh ? "否" : "no"))
        case .json: return .text(v.text)
        }
    }
}
