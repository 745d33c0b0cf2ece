/// How long a collection's records are kept (ABI 1.4, a collection's `retention`; an instance may override it
/// through the host's API): live records older than `days` — by a date field of their data (`yyyy-MM-dd` or an
/// ISO time, compared as text) or else by when a sync last saw them — and tombstones `tombstoneDays` after their
/// deletion. The host's `retention` job applies it and never purges a record the latest complete run saw.
public struct RetentionSpec: Sendable, Codable, Equatable {
    public var days: Int?
    public var field: String?
    public var tombstoneDays: Int?

    public init(days: Int? = nil, field: String? = nil, tombstoneDays: Int? = nil) {
        self.days = days
        self.field = field
        self.tombstoneDays = tombstoneDays
    }

    enum CodingKeys: String, CodingKey {
        case days, field
        case tombstoneDays = "tombstone_days"
    }

    /// What is wrong with it, if anything (the loader and the API refuse it with these words).
    public var problems: [String] {
        var p: [String] = []
        if let d = days, !(1...36_500).contains(d) { p.append("days must be 1-36500") }
        if let d = tombstoneDays, !(1...36_500).contains(d) { p.append("tombstone_days must be 1-36500") }
        if let f = field, f.isEmpty || !f.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) || !f.unicodeScalars.allSatisfy(\.isASCII) {
            p.append("field must be a top-level field name (a-z, 0-9, _)")
        }
        if field != nil && days == nil { p.append("field needs days") }
        if days == nil && tombstoneDays == nil { p.append("give days, tombstone_days or both") }
        return p
    }
}
