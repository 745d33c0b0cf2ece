/// A view of the operator console a plugin declares (ABI 1.4, the manifest's `views`): the host renders it for
/// each instance of the plugin, with no plugin code in the page.
///   - `table`: records of a collection, with its columns, filters and order;
///   - `chart`: fields of a collection's records (or of a GET route's rows) over a date key, as lines or bars;
///   - `summary`: the fields of a GET route's JSON answer as a card (a health score and its parts);
/// each with actions bound to the plugin's jobs or routes.
public struct ViewSpec: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, Equatable {
        case table, chart, summary
    }

    /// Unique within the plugin: `[a-z0-9_]+`.
    public var id: String
    public var kind: Kind
    public var title: LocalizedText
    /// Where a table or chart reads: one of the manifest's collections…
    public var collection: String?
    /// …or a GET route of the manifest (`instances/{id}/…`, `{id}` is the instance), for charts and summaries.
    public var route: String?
    /// The route answer's member holding the rows (a chart), when the answer is not the array itself.
    public var rows: String?
    /// What a table or summary shows.
    public var columns: [ViewColumn]
    /// A chart's axes.
    public var chart: ChartSpec?
    /// Fields a table offers as exact-match filters.
    public var filters: [String]
    /// A table's order: `key`, `synced_at` or `changed_at`, descending with a leading `-` (newest dates first: `-key`).
    public var order: String
    public var actions: [ViewAction]

    public init(
        _ id: String, _ kind: Kind, title: LocalizedText, collection: String? = nil, route: String? = nil, rows: String? = nil,
        columns: [ViewColumn] = [], chart: ChartSpec? = nil, filters: [String] = [], order: String = "key", actions: [ViewAction] = []
    ) {
        self.id = id
        self.kind = kind
        self.title = title
        self.collection = collection
        self.route = route
        self.rows = rows
        self.columns = columns
        self.chart = chart
        self.filters = filters
        self.order = order
        self.actions = actions
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, title, collection, route, rows, columns, chart, filters, order, actions
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        kind = try c.decode(Kind.self, forKey: .kind)
        title = try c.decode(LocalizedText.self, forKey: .title)
        collection = try c.decodeIfPresent(String.self, forKey: .collection)
        route = try c.decodeIfPresent(String.self, forKey: .route)
        rows = try c.decodeIfPresent(String.self, forKey: .rows)
        columns = try c.decodeIfPresent([ViewColumn].self, forKey: .columns) ?? []
        chart = try c.decodeIfPresent(ChartSpec.self, forKey: .chart)
        filters = try c.decodeIfPresent([String].self, forKey: .filters) ?? []
        order = try c.decodeIfPresent(String.self, forKey: .order) ?? "key"
        actions = try c.decodeIfPresent([ViewAction].self, forKey: .actions) ?? []
    }
}

/// Text in the console's two languages: `{"zh-CN": "…", "en": "…"}`.
public struct LocalizedText: Sendable, Codable, Equatable {
    public var zh: String
    public var en: String

    public init(zh: String, en: String) {
        self.zh = zh
        self.en = en
    }

    /// Chinese first, as the operators read it: `LocalizedText("刷新数据", "Refresh data")`.
    public init(_ zh: String, _ en: String) {
        self.init(zh: zh, en: en)
    }

    enum CodingKeys: String, CodingKey {
        case zh = "zh-CN"
        case en
    }
}

/// One column of a table or field of a summary: a record's data field (dotted path), or `@key`, `@synced_at`,
/// `@changed_at` for the record's own.
public struct ViewColumn: Sendable, Codable, Equatable {
    public enum Format: String, Sendable, Codable, Equatable {
        /// `datetime`: an instant, shown in the instance's zone; `percent`: a 0–100 number.
        case text, number, percent, money, datetime, date, bool, status
    }

    public var field: String
    public var label: LocalizedText
    public var format: Format

    public init(_ field: String, _ label: LocalizedText, format: Format = .text) {
        self.field = field
        self.label = label
        self.format = format
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        field = try c.decode(String.self, forKey: .field)
        label = try c.decode(LocalizedText.self, forKey: .label)
        format = try c.decodeIfPresent(Format.self, forKey: .format) ?? .text
    }
}

/// A chart's x field (a yyyy-MM-dd date: the record key by default) and its series.
public struct ChartSpec: Sendable, Codable, Equatable {
    public enum Style: String, Sendable, Codable, Equatable {
        case line, bar
    }

    public var style: Style
    public var x: String
    public var series: [ViewColumn]
    /// How many of the latest days are drawn.
    public var days: Int

    public init(_ style: Style, x: String = "@key", series: [ViewColumn], days: Int = 30) {
        self.style = style
        self.x = x
        self.series = series
        self.days = days
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        style = try c.decodeIfPresent(Style.self, forKey: .style) ?? .line
        x = try c.decodeIfPresent(String.self, forKey: .x) ?? "@key"
        series = try c.decode([ViewColumn].self, forKey: .series)
        days = try c.decodeIfPresent(Int.self, forKey: .days) ?? 30
    }
}

/// A button of a view: runs one of the plugin's jobs (with fixed params and params asked of the operator),
/// calls one of its routes (POST by default; `{name}` segments are filled from the inputs), or reads the view's
/// collection live (`live`: the legacy 刷新数据). A `row` action is offered on each record of a table, its inputs
/// filled from the record's fields (`@key`: the record's key).
public struct ViewAction: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, Equatable {
        case job, route, live
    }

    public var id: String
    public var kind: Kind
    public var label: LocalizedText
    /// The job (`job`) or the route's path (`route`, `{id}` is the instance).
    public var target: String?
    /// A route action's method: POST, PUT, PATCH or DELETE.
    public var method: String
    public var row: Bool
    public var params: [String: JSONValue]
    /// Values asked of the operator before it runs (for a job: params; for a route: members of the JSON body).
    public var inputs: [ConfigKey]
    /// Asked before it runs, when set.
    public var confirm: LocalizedText?

    public init(
        _ id: String, _ kind: Kind, label: LocalizedText, target: String? = nil, method: String = "POST", row: Bool = false,
        params: [String: JSONValue] = [:], inputs: [ConfigKey] = [], confirm: LocalizedText? = nil
    ) {
        self.id = id
        self.kind = kind
        self.label = label
        self.target = target
        self.method = method
        self.row = row
        self.params = params
        self.inputs = inputs
        self.confirm = confirm
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        kind = try c.decode(Kind.self, forKey: .kind)
        label = try c.decode(LocalizedText.self, forKey: .label)
        target = try c.decodeIfPresent(String.self, forKey: .target)
        method = try c.decodeIfPresent(String.self, forKey: .method) ?? "POST"
        row = try c.decodeIfPresent(Bool.self, forKey: .row) ?? false
        params = try c.decodeIfPresent([String: JSONValue].self, forKey: .params) ?? [:]
        inputs = try c.decodeIfPresent([ConfigKey].self, forKey: .inputs) ?? []
        confirm = try c.decodeIfPresent(LocalizedText.self, forKey: .confirm)
    }
}
