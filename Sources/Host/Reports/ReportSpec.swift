import Foundation
import PluginAPI

/// A stored report: a query of one instance's collection (or of a table or chart view a plugin declares, which
/// names the collection, the columns and their labels), its date range relative to the time it fires, optional
/// grouping with sums, the files it is sent as and the channels it goes to, on a cron schedule in the instance's
/// zone. "Every morning 08:00: yesterday's Guanke 9元/1元 per day and the week's trend to sales@" is one report:
/// `{"instance": "g", "view": "grade_days", "date_field": "@key", "range": "T-7..T-1", "sums": ["grade_9", "grade_1"],
///   "cron": "0 8 * * *", "channels": ["sales-mail"], "formats": ["html", "csv", "xlsx"]}`.
public struct ReportSpec: Sendable, Equatable, Codable {
    public enum Format: String, Sendable, Codable, CaseIterable {
        /// The table in the mail body (e-mail's HTML part; other channels get the text summary).
        case html
        /// Attachments.
        case csv, xlsx
    }

    public var id: String
    public var name: String
    public var instance: String
    public var collection: String?
    public var view: String?
    /// Columns: data paths or `@key`, `@synced_at`, `@changed_at`; empty: the view's columns, else the key and the data's fields.
    public var fields: [String]
    /// Equality filters on data fields.
    public var filters: [String: String]
    /// The field holding a record's day (`yyyy-MM-dd…`), `@key` for date-keyed collections; with `range`.
    public var dateField: String?
    /// Days relative to the fire date T in the instance's zone: `T-7..T-1`, `T-1`, `T`.
    public var range: String?
    /// Rows grouped by these fields, one row per group with the sums and a count.
    public var groupBy: [String]
    /// Numeric fields summed: per group, or in a totals row.
    public var sums: [String]
    public var formats: [Format]
    public var channels: [String]
    /// E-mail recipients over the channel's own.
    public var recipients: [String]
    /// Nil: run only on demand.
    public var cron: String?
    /// `zh-CN` or `en`: the labels, headings and summary.
    public var language: String
    /// A link the summary carries (e.g. the console), for channels that cannot carry files.
    public var link: String?
    public var enabled: Bool

    public init(id: String, name: String, instance: String, collection: String? = nil, view: String? = nil, fields: [String] = [],
                filters: [String: String] = [:], dateField: String? = nil, range: String? = nil, groupBy: [String] = [], sums: [String] = [],
                formats: [Format] = [.html, .csv, .xlsx], channels: [String] = [], recipients: [String] = [], cron: String? = nil,
                language: String = "zh-CN", link: String? = nil, enabled: Bool = true) {
        self.id = id
        self.name = name
        self.instance = instance
        self.collection = collection
        self.view = view
        self.fields = fields
        self.filters = filters
        self.dateField = dateField
        self.range = range
        self.groupBy = groupBy
        self.sums = sums
        self.formats = formats
        self.channels = channels
        self.recipients = recipients
        self.cron = cron
        self.language = language
        self.link = link
        self.enabled = enabled
    }

    enum CodingKeys: String, CodingKey {
        case id, name, instance, collection, view, fields, filters, range, sums, formats, channels, recipients, cron, language, link, enabled
        case dateField = "date_field"
        case groupBy = "group_by"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
        name = try c.decode(String.self, forKey: .name)
        instance = try c.decode(String.self, forKey: .instance)
        collection = try c.decodeIfPresent(String.self, forKey: .collection)
        view = try c.decodeIfPresent(String.self, forKey: .view)
        fields = try c.decodeIfPresent([String].self, forKey: .fields) ?? []
        filters = try c.decodeIfPresent([String: String].self, forKey: .filters) ?? [:]
        dateField = try c.decodeIfPresent(String.self, forKey: .dateField)
        range = try c.decodeIfPresent(String.self, forKey: .range)
        groupBy = try c.decodeIfPresent([String].self, forKey: .groupBy) ?? []
        sums = try c.decodeIfPresent([String].self, forKey: .sums) ?? []
        formats = try c.decodeIfPresent([Format].self, forKey: .formats) ?? [.html, .csv, .xlsx]
        channels = try c.decodeIfPresent([String].self, forKey: .channels) ?? []
        recipients = try c.decodeIfPresent([String].self, forKey: .recipients) ?? []
        cron = try c.decodeIfPresent(String.self, forKey: .cron)
        language = try c.decodeIfPresent(String.self, forKey: .language) ?? "zh-CN"
        link = try c.decodeIfPresent(String.self, forKey: .link)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
    }

    public static let keys: Set<String> = Set(CodingKeys.allKeys)

    /// What is wrong with it on its own (the instance, view and channels are checked against the host by `ReportRoutes`).
    public var problems: [String] {
        var p: [String] = []
        if id.wholeMatch(of: /^[a-z0-9][a-z0-9_-]{0,63}$/) == nil { p.append("id: 1-64 of a-z, 0-9, _ and -") }
        if name.trimmingCharacters(in: .whitespaces).isEmpty || name.count > 200 { p.append("name: 1-200 characters") }
        if (collection == nil) == (view == nil) { p.append("name either a collection or a view") }
        if fields.count > 100 || groupBy.count > 10 || sums.count > 50 || filters.count > 20 { p.append("at most 100 fields, 10 group_by, 50 sums and 20 filters") }
        for f in fields + groupBy + sums + Array(filters.keys) + (dateField.map { [$0] } ?? []) where f.isEmpty || f.count > 200 {
            p.append("field names: 1-200 characters")
        }
        if range != nil && dateField == nil { p.append("range needs date_field") }
        if let r = range, DayRange(r) == nil { p.append("range: \(r.debugDescription) is not T-N..T-M, T-N or T (days before the fire date)") }
        if formats.isEmpty { p.append("formats: at least one of html, csv, xlsx") }
        if let c = cron {
            do { _ = try CronExpression(c) } catch { p.append("cron: \(error.message)") }
            if channels.isEmpty { p.append("a scheduled report needs channels") }
        }
        if !["zh-CN", "en"].contains(language) { p.append("language: zh-CN or en") }
        if channels.count > 20 || recipients.count > 50 { p.append("at most 20 channels and 50 recipients") }
        if let l = link, !(l.hasPrefix("https://") || l.hasPrefix("http://")) || l.count > 2000 { p.append("link: an http(s) URL") }
        return p
    }
}

extension ReportSpec.CodingKeys {
    static var allKeys: [String] {
        ["id", "name", "instance", "collection", "view", "fields", "filters", "date_field", "range", "group_by", "sums", "formats", "channels",
         "recipients", "cron", "language", "link", "enabled"]
    }
}

/// Days relative to a report's fire date T: `T-7..T-1` is the seven days before it, `T` the day itself.
public struct DayRange: Sendable, Equatable {
    /// Days before T (0 = T), first and last, first >= last.
    public let fromDaysBefore: Int
    public let toDaysBefore: Int

    public init?(_ text: String) {
        let parts = text.replacingOccurrences(of: " ", with: "").components(separatedBy: "..")
        func offset(_ s: String) -> Int? {
            if s == "T" { return 0 }
            guard s.hasPrefix("T-"), let n = Int(s.dropFirst(2)), (0...3660).contains(n) else { return nil }
            return n
        }
        switch parts.count {
        case 1:
            guard let n = offset(parts[0]) else { return nil }
            (fromDaysBefore, toDaysBefore) = (n, n)
        case 2:
            guard let a = offset(parts[0]), let b = offset(parts[1]), a >= b else { return nil }
            (fromDaysBefore, toDaysBefore) = (a, b)
        default:
            return nil
        }
    }

    /// The first and last day (`yyyy-MM-dd`, inclusive) for a report firing at `fire` in `zone`.
    public func days(firing fire: Date, in zone: TimeZone) -> (first: String, last: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let today = calendar.startOfDay(for: fire)
        func day(_ n: Int) -> String {
            Retention.day(calendar.date(byAdding: .day, value: -n, to: today) ?? today, zone: zone)
        }
        return (day(fromDaysBefore), day(toDaysBefore))
    }
}
