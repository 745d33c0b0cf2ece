import Foundation

/// The host's store, as a plugin sees it: collections of records keyed per instance, cursors and state.
/// Operations and payloads are documented in docs/writing-a-plugin.md ("store service").
public struct StoreService: Sendable {
    let services: HostServices

    /// Frame 0 of an "upsert": what the page is; frames 1... alternate record key and record data (JSON bytes).
    public struct UpsertHeader: Sendable, Codable {
        public var collection: String
        /// Saved in the same transaction as the records: a crash never separates a page from its cursor.
        public var cursor: CursorUpdate?
        /// Count what would change, write nothing.
        public var dryRun: Bool

        public init(collection: String, cursor: CursorUpdate? = nil, dryRun: Bool = false) {
            self.collection = collection
            self.cursor = cursor
            self.dryRun = dryRun
        }

        enum CodingKeys: String, CodingKey {
            case collection, cursor
            case dryRun = "dry_run"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            collection = try c.decode(String.self, forKey: .collection)
            cursor = try c.decodeIfPresent(CursorUpdate.self, forKey: .cursor)
            dryRun = try c.decodeIfPresent(Bool.self, forKey: .dryRun) ?? false
        }
    }

    public struct CursorUpdate: Sendable, Codable {
        public var stream: String
        public var value: JSONValue
        public init(stream: String, value: JSONValue) {
            self.stream = stream
            self.value = value
        }
    }

    /// The framed "upsert" payload for a page of records whose data is already JSON bytes.
    public static func upsertPayload(_ header: UpsertHeader, _ records: [(key: String, json: [UInt8])]) throws -> [UInt8] {
        var w = FrameWriter(capacity: records.reduce(64) { $0 + $1.json.count + $1.key.utf8.count + 8 })
        w.append(try WireJSON.encode(header))
        for r in records {
            w.append(r.key)
            w.append(r.json)
        }
        return w.bytes
    }

    /// Writes a page of records and returns inserted / updated / unchanged counts. Record data is serialised
    /// with sorted keys, so unchanged content is recognised as unchanged.
    @discardableResult
    public func upsert(_ collection: String, _ records: [Record], cursor: CursorUpdate? = nil, dryRun: Bool = false) async throws -> RunCounts {
        try await upsertRaw(collection, records.map { (key: $0.key, json: $0.data.jsonBytes) }, cursor: cursor, dryRun: dryRun)
    }

    /// The same for data the plugin already holds as JSON bytes (e.g. a slice of the upstream's response).
    /// Equal content must be equal bytes for change detection to see it as unchanged.
    @discardableResult
    public func upsertRaw(_ collection: String, _ records: [(key: String, json: [UInt8])], cursor: CursorUpdate? = nil, dryRun: Bool = false) async throws -> RunCounts {
        let payload = try Self.upsertPayload(UpsertHeader(collection: collection, cursor: cursor, dryRun: dryRun), records)
        let bytes = try await services.connection.call(.store, session: services.session, op: "upsert", request: payload)
        return try WireJSON.decode(RunCounts.self, from: bytes)
    }

    /// Request and response shapes of the "get", "cursor.*" and "state.*" operations (the host decodes the same).
    public struct KeyRequest: Codable, Sendable {
        public var collection: String
        public var key: String
    }

    public func get(_ collection: String, key: String) async throws -> Record? {
        try await services.call(.store, "get", KeyRequest(collection: collection, key: key), as: RecordFetchResult.self).record
    }

    public struct NameRequest: Codable, Sendable { public var name: String }
    public struct ValueResponse: Codable, Sendable {
        public var value: JSONValue?
        public init(value: JSONValue?) { self.value = value }
    }
    public struct SetRequest: Codable, Sendable {
        public var name: String
        public var value: JSONValue
    }

    public func cursor(_ stream: String) async throws -> JSONValue? {
        try await services.call(.store, "cursor.get", NameRequest(name: stream), as: ValueResponse.self).value
    }

    public func setCursor(_ stream: String, _ value: JSONValue) async throws {
        _ = try await services.call(.store, "cursor.set", SetRequest(name: stream, value: value), as: Empty.self)
    }

    /// Plugin state that outlives a run (e.g. an upstream access token with its expiry).
    public func state(_ name: String) async throws -> JSONValue? {
        try await services.call(.store, "state.get", NameRequest(name: name), as: ValueResponse.self).value
    }

    public func setState(_ name: String, _ value: JSONValue) async throws {
        _ = try await services.call(.store, "state.set", SetRequest(name: name, value: value), as: Empty.self)
    }
}

/// The host's run queue: run one of this instance's jobs now or later (e.g. a staggered backfill).
public struct SchedulerService: Sendable {
    let services: HostServices

    public struct EnqueueRequest: Sendable, Codable {
        public var job: String
        public var params: [String: JSONValue]
        public var runAt: Date?
        public var trigger: String

        enum CodingKeys: String, CodingKey {
            case job, params, trigger
            case runAt = "run_at"
        }
    }

    public struct Enqueued: Sendable, Codable {
        public var runID: String
        public init(runID: String) { self.runID = runID }
        enum CodingKeys: String, CodingKey { case runID = "run_id" }
    }

    @discardableResult
    public func enqueue(job: String, params: [String: JSONValue] = [:], at runAt: Date? = nil, trigger: String = "initial") async throws -> String {
        try await services.call(.schedule, "enqueue", EnqueueRequest(job: job, params: params, runAt: runAt, trigger: trigger), as: Enqueued.self).runID
    }

    /// How far a run is (ABI 1.4), for the console's progress bars and `synchost run --verbose`.
    public struct ProgressRequest: Sendable, Codable, Equatable {
        public var done: Int
        public var total: Int
        public var label: String?
        /// One of several bars of the run (each day of a backfill); nil: the run's own.
        public var bar: String?

        public init(done: Int, total: Int, label: String? = nil, bar: String? = nil) {
            self.done = done
            self.total = total
            self.label = label
            self.bar = bar
        }
    }

    /// Reports progress of the current run: `done` of `total` steps, with a label such as "2026-11-20 · 12/20 accounts".
    /// Best effort: a host older than 1.4 has no such operation, and progress is never worth failing a run for.
    public func progress(done: Int, total: Int, label: String? = nil, bar: String? = nil) async {
        _ = try? await services.call(.schedule, "progress", ProgressRequest(done: done, total: total, label: label, bar: bar), as: Empty.self)
    }
}

/// Hands messages to the notifier plugins through the host's outbox (persisted before delivery).
public struct NotifyService: Sendable {
    let services: HostServices

    public struct SendRequest: Sendable, Codable {
        /// Notifier instance ids; empty = every enabled channel the host routes this instance's messages to.
        public var channels: [String]
        public var message: OutgoingMessage
        /// Deduplication key: the host queues one notification per key and channel.
        public var dedupKey: String?

        enum CodingKeys: String, CodingKey {
            case channels, message
            case dedupKey = "dedup_key"
        }
    }

    public struct Queued: Sendable, Codable {
        public var ids: [String]
        public init(ids: [String]) { self.ids = ids }
    }

    @discardableResult
    public func send(_ message: OutgoingMessage, channels: [String] = [], dedupKey: String? = nil) async throws -> [String] {
        try await services.call(.notify, "send", SendRequest(channels: channels, message: message, dedupKey: dedupKey), as: Queued.self).ids
    }
}

// Reads over a whole collection: a page of records, and grouped counts and sums (e.g. CDRs per day).
extension StoreService {
    public struct ListRequest: Codable, Sendable {
        public var collection: String
        /// Inclusive key range (keys compare bytewise).
        public var keyFrom: String?
        public var keyTo: String?
        /// Equality on top-level fields, compared as text.
        public var filters: [String: String]
        public var limit: Int
        public var cursor: String?

        public init(collection: String, keyFrom: String? = nil, keyTo: String? = nil, filters: [String: String] = [:], limit: Int = 1000, cursor: String? = nil) {
            self.collection = collection
            self.keyFrom = keyFrom
            self.keyTo = keyTo
            self.filters = filters
            self.limit = limit
            self.cursor = cursor
        }

        enum CodingKeys: String, CodingKey {
            case collection, filters, limit, cursor
            case keyFrom = "key_from"
            case keyTo = "key_to"
        }
    }

    public struct ListedRecord: Codable, Sendable {
        public var key: String
        public var data: JSONValue
        public var syncedAt: Date
        public var changedAt: Date
        public init(key: String, data: JSONValue, syncedAt: Date, changedAt: Date) {
            self.key = key
            self.data = data
            self.syncedAt = syncedAt
            self.changedAt = changedAt
        }
        enum CodingKeys: String, CodingKey {
            case key, data
            case syncedAt = "synced_at"
            case changedAt = "changed_at"
        }
    }

    public struct ListPage: Codable, Sendable {
        public var records: [ListedRecord]
        public var nextCursor: String?
        public init(records: [ListedRecord], nextCursor: String?) {
            self.records = records
            self.nextCursor = nextCursor
        }
        enum CodingKeys: String, CodingKey {
            case records
            case nextCursor = "next_cursor"
        }
    }

    /// One page of live (not deleted) records in key order.
    public func list(_ request: ListRequest) async throws -> ListPage {
        try await services.call(.store, "list", request, as: ListPage.self)
    }

    public struct AggregateRequest: Codable, Sendable {
        public var collection: String
        /// Top-level field to group by (nil: one row for the whole collection).
        public var groupBy: String?
        /// Numeric top-level fields to total.
        public var sum: [String]
        /// Inclusive bounds on the group field's text value.
        public var from: String?
        public var to: String?
        /// Count deleted records too, as their own group "deleted" (e.g. counts by status).
        public var deletedAsGroup: Bool

        public init(collection: String, groupBy: String? = nil, sum: [String] = [], from: String? = nil, to: String? = nil, deletedAsGroup: Bool = false) {
            self.collection = collection
            self.groupBy = groupBy
            self.sum = sum
            self.from = from
            self.to = to
            self.deletedAsGroup = deletedAsGroup
        }

        enum CodingKeys: String, CodingKey {
            case collection, sum, from, to
            case groupBy = "group_by"
            case deletedAsGroup = "deleted_as_group"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            collection = try c.decode(String.self, forKey: .collection)
            groupBy = try c.decodeIfPresent(String.self, forKey: .groupBy)
            sum = try c.decodeIfPresent([String].self, forKey: .sum) ?? []
            from = try c.decodeIfPresent(String.self, forKey: .from)
            to = try c.decodeIfPresent(String.self, forKey: .to)
            deletedAsGroup = try c.decodeIfPresent(Bool.self, forKey: .deletedAsGroup) ?? false
        }
    }

    public struct AggregateRow: Codable, Sendable, Equatable {
        public var group: String?
        public var count: Int
        public var sums: [String: Double]
        public init(group: String?, count: Int, sums: [String: Double]) {
            self.group = group
            self.count = count
            self.sums = sums
        }
    }

    public struct AggregateResult: Codable, Sendable {
        public var rows: [AggregateRow]
        public init(rows: [AggregateRow]) { self.rows = rows }
    }

    /// Counts and sums of live records, grouped by a field, computed by the database (not in the plugin).
    public func aggregate(_ request: AggregateRequest) async throws -> [AggregateRow] {
        try await services.call(.store, "aggregate", request, as: AggregateResult.self).rows
    }
}

extension StoreService {
    public struct PurgeDeletedRequest: Codable, Sendable {
        public var collection: String
        public var deletedBefore: Date
        public init(collection: String, deletedBefore: Date) {
            self.collection = collection
            self.deletedBefore = deletedBefore
        }
        enum CodingKeys: String, CodingKey {
            case collection
            case deletedBefore = "deleted_before"
        }
    }

    public struct Purged: Codable, Sendable {
        public var purged: Int
        public init(purged: Int) { self.purged = purged }
    }

    public struct PurgeKeysRequest: Codable, Sendable {
        public var collection: String
        public var keys: [String]
        public init(collection: String, keys: [String]) {
            self.collection = collection
            self.keys = keys
        }
    }

    /// Removes records by key for good (expired cache entries, expired tokens); returns how many existed.
    @discardableResult
    public func purge(_ collection: String, keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try await services.call(.store, "purge_keys", PurgeKeysRequest(collection: collection, keys: keys), as: Purged.self).purged
    }

    /// Removes records of a collection that were marked deleted before the date (retention clean-up).
    @discardableResult
    public func purgeDeleted(_ collection: String, before: Date) async throws -> Int {
        try await services.call(.store, "purge_deleted", PurgeDeletedRequest(collection: collection, deletedBefore: before), as: Purged.self).purged
    }
}

/// An alert of the calling instance: a host alert rule that held (or held until `resolvedAt`).
public struct AlertInfo: Codable, Sendable, Equatable {
    public var id: String
    /// The rule's id: "default-health", "default-errors", "default-delay" for the host's default rules.
    public var rule: String
    public var ruleName: String
    /// info | warning | critical
    public var severity: String
    /// active | resolved
    public var state: String
    public var message: String
    public var value: Double
    public var firedAt: Date
    public var resolvedAt: Date?

    public init(id: String, rule: String, ruleName: String, severity: String, state: String, message: String, value: Double,
                firedAt: Date, resolvedAt: Date?) {
        self.id = id
        self.rule = rule
        self.ruleName = ruleName
        self.severity = severity
        self.state = state
        self.message = message
        self.value = value
        self.firedAt = firedAt
        self.resolvedAt = resolvedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, rule, severity, state, message, value
        case ruleName = "rule_name"
        case firedAt = "fired_at"
        case resolvedAt = "resolved_at"
    }
}

/// A run of the calling instance, as the host recorded it (for health, metrics and status views).
public struct RunInfo: Codable, Sendable, Equatable {
    public var id: String
    public var job: String
    public var trigger: String
    /// queued | running | succeeded | incomplete | failed | cancelled | interrupted | crashed | skipped
    public var status: String
    public var dryRun: Bool
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var counts: RunCounts
    public var message: String?
    public var error: String?

    public init(id: String, job: String, trigger: String, status: String, dryRun: Bool, createdAt: Date, startedAt: Date?,
                finishedAt: Date?, counts: RunCounts, message: String?, error: String?) {
        self.id = id
        self.job = job
        self.trigger = trigger
        self.status = status
        self.dryRun = dryRun
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.counts = counts
        self.message = message
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case id, job, trigger, status, counts, message, error
        case dryRun = "dry_run"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }
}

extension SchedulerService {
    public struct RunsRequest: Codable, Sendable {
        public var job: String?
        public var since: Date?
        public var limit: Int
        enum CodingKeys: String, CodingKey { case job, since, limit }
    }

    public struct RunsResponse: Codable, Sendable {
        public var runs: [RunInfo]
        public init(runs: [RunInfo]) { self.runs = runs }
    }

    /// The instance's runs, newest first (at most 500).
    public func runs(job: String? = nil, since: Date? = nil, limit: Int = 100) async throws -> [RunInfo] {
        try await services.call(.schedule, "runs", RunsRequest(job: job, since: since, limit: limit), as: RunsResponse.self).runs
    }

    public struct AlertsRequest: Codable, Sendable {
        public var includeResolved: Bool
        public var limit: Int
        public init(includeResolved: Bool, limit: Int) {
            self.includeResolved = includeResolved
            self.limit = limit
        }
        enum CodingKeys: String, CodingKey {
            case limit
            case includeResolved = "include_resolved"
        }
    }

    public struct AlertsResponse: Codable, Sendable {
        public var alerts: [AlertInfo]
        public init(alerts: [AlertInfo]) { self.alerts = alerts }
    }

    /// The instance's alerts as the host's alert rules raised them (ABI 1.6), newest first: the active ones, and
    /// with `includeResolved` the resolved ones too (at most 500).
    public func alerts(includeResolved: Bool = false, limit: Int = 100) async throws -> [AlertInfo] {
        try await services.call(.schedule, "alerts", AlertsRequest(includeResolved: includeResolved, limit: limit), as: AlertsResponse.self).alerts
    }
}
