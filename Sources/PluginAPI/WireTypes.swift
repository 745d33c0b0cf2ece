import Foundation

// The JSON payloads of the host -> plugin operations (descriptor->invoke). The host encodes, the SDK decodes.

/// The operation names of `sh_plugin_descriptor.invoke`.
public enum PluginOperation {
    public static let run = "run"
    public static let instanceCreated = "instance.created"
    public static let validateConfig = "config.validate"
    public static let fetchRecord = "record.fetch"
    public static let route = "route"
    public static let send = "send"
}

/// A configured instance of a plugin (a VOS node, a WeCom corp, a notification channel...).
public struct InstanceInfo: Sendable, Codable, Equatable {
    public var id: String
    public var plugin: String
    public var config: [String: JSONValue]

    public init(id: String, plugin: String, config: [String: JSONValue]) {
        self.id = id
        self.plugin = plugin
        self.config = config
    }
}

public struct RunRequest: Sendable, Codable {
    public var runID: String
    public var job: String
    public var instance: InstanceInfo
    public var params: [String: JSONValue]
    public var dryRun: Bool
    /// schedule | manual | initial | retry | plugin (enqueued by the plugin) | live-read (a `cache=live` read)
    public var trigger: String
    public var scheduledFor: Date?
    /// ABI 1.3: the host's clock when it made the call (a test host's clock can be moved; see `JobContext.now`).
    public var now: Date?

    public init(
        runID: String, job: String, instance: InstanceInfo, params: [String: JSONValue] = [:],
        dryRun: Bool = false, trigger: String = "manual", scheduledFor: Date? = nil, now: Date? = nil
    ) {
        self.runID = runID
        self.job = job
        self.instance = instance
        self.params = params
        self.dryRun = dryRun
        self.trigger = trigger
        self.scheduledFor = scheduledFor
        self.now = now
    }

    enum CodingKeys: String, CodingKey {
        case job, instance, params, trigger, now
        case runID = "run_id"
        case dryRun = "dry_run"
        case scheduledFor = "scheduled_for"
    }
}

/// What a job reports when it ends without throwing.
public struct RunResult: Sendable, Codable, Equatable {
    /// False when the job knows it saw only part of the data (paging ended early, a page failed...).
    /// The host never applies full-sync deletions for an incomplete run.
    public var complete: Bool
    public var counts: RunCounts
    public var message: String?
    /// Job-specific figures for the run record (e.g. per-day totals).
    public var details: [String: JSONValue]
    /// Collections this run saw in full: when the run is complete, the host marks records of these
    /// collections (those declared with tombstones) that the run did not see as deleted.
    public var fullSync: [String]

    public init(
        complete: Bool = true, counts: RunCounts = RunCounts(), message: String? = nil,
        details: [String: JSONValue] = [:], fullSync: [String] = []
    ) {
        self.complete = complete
        self.counts = counts
        self.message = message
        self.details = details
        self.fullSync = fullSync
    }

    enum CodingKeys: String, CodingKey {
        case complete, counts, message, details
        case fullSync = "full_sync"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        complete = try c.decodeIfPresent(Bool.self, forKey: .complete) ?? true
        counts = try c.decodeIfPresent(RunCounts.self, forKey: .counts) ?? RunCounts()
        message = try c.decodeIfPresent(String.self, forKey: .message)
        details = try c.decodeIfPresent([String: JSONValue].self, forKey: .details) ?? [:]
        fullSync = try c.decodeIfPresent([String].self, forKey: .fullSync) ?? []
    }
}

public struct RunCounts: Sendable, Codable, Equatable {
    public var fetched: Int
    public var pages: Int
    public var inserted: Int
    public var updated: Int
    public var unchanged: Int
    public var deleted: Int

    /// A run's counts as the host records them: the store's own tally is authoritative for what was written;
    /// the plugin's report adds what only it knows (records fetched, pages) and stands alone when the job
    /// wrote through no store call.
    public static func merged(reported: RunCounts, stored: RunCounts) -> RunCounts {
        guard stored.pages > 0 else { return reported }
        var c = stored
        c.fetched = max(reported.fetched, stored.fetched)
        c.pages = max(reported.pages, stored.pages)
        c.deleted = reported.deleted
        return c
    }

    public init(fetched: Int = 0, pages: Int = 0, inserted: Int = 0, updated: Int = 0, unchanged: Int = 0, deleted: Int = 0) {
        self.fetched = fetched
        self.pages = pages
        self.inserted = inserted
        self.updated = updated
        self.unchanged = unchanged
        self.deleted = deleted
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        fetched = try c.decodeIfPresent(Int.self, forKey: .fetched) ?? 0
        pages = try c.decodeIfPresent(Int.self, forKey: .pages) ?? 0
        inserted = try c.decodeIfPresent(Int.self, forKey: .inserted) ?? 0
        updated = try c.decodeIfPresent(Int.self, forKey: .updated) ?? 0
        unchanged = try c.decodeIfPresent(Int.self, forKey: .unchanged) ?? 0
        deleted = try c.decodeIfPresent(Int.self, forKey: .deleted) ?? 0
    }

    enum CodingKeys: String, CodingKey { case fetched, pages, inserted, updated, unchanged, deleted }

    public static func += (lhs: inout RunCounts, rhs: RunCounts) {
        lhs.fetched += rhs.fetched
        lhs.pages += rhs.pages
        lhs.inserted += rhs.inserted
        lhs.updated += rhs.updated
        lhs.unchanged += rhs.unchanged
        lhs.deleted += rhs.deleted
    }
}

public struct InstanceEvent: Sendable, Codable {
    public var instance: InstanceInfo
    public init(instance: InstanceInfo) { self.instance = instance }
}

public struct ConfigValidationRequest: Sendable, Codable {
    public var config: [String: JSONValue]
    public init(config: [String: JSONValue]) { self.config = config }
}

public struct RecordFetchRequest: Sendable, Codable {
    public var instance: InstanceInfo
    public var collection: String
    public var key: String
    public init(instance: InstanceInfo, collection: String, key: String) {
        self.instance = instance
        self.collection = collection
        self.key = key
    }
}

/// A record as the plugin hands it over: a key and its data (any JSON value).
public struct Record: Sendable, Codable, Equatable {
    public var key: String
    public var data: JSONValue
    public init(key: String, data: JSONValue) {
        self.key = key
        self.data = data
    }
}

public struct RecordFetchResult: Sendable, Codable {
    public var record: Record?
    public init(record: Record?) { self.record = record }
}

/// An HTTP request to one of the plugin's declared routes (`/api/v1/plugins/{plugin}/{path}`).
public struct RouteRequest: Sendable, Codable {
    public var method: String
    /// The route's declared path template, e.g. "instances/{id}/grade-stats".
    public var route: String
    /// The concrete path below `/api/v1/plugins/{plugin}/`.
    public var path: String
    public var pathParams: [String: String]
    public var query: [String: String]
    public var headers: [String: String]
    /// The request body's bytes (ABI 1.3: any bytes; before, UTF-8 text only).
    public var bodyBytes: [UInt8]?
    /// The instance named by an `{id}` path parameter, resolved by the host.
    public var instance: InstanceInfo?
    /// ABI 1.3: the host's clock when it made the call (see `RouteContext.now`).
    public var now: Date?

    /// The body as text (invalid UTF-8 repaired).
    public var body: String? {
        get { bodyBytes.map { String(decoding: $0, as: UTF8.self) } }
        set { bodyBytes = newValue.map { Array($0.utf8) } }
    }

    public init(
        method: String, route: String, path: String, pathParams: [String: String] = [:],
        query: [String: String] = [:], headers: [String: String] = [:], body: String? = nil,
        instance: InstanceInfo? = nil
    ) {
        self.method = method
        self.route = route
        self.path = path
        self.pathParams = pathParams
        self.query = query
        self.headers = headers
        self.bodyBytes = body.map { Array($0.utf8) }
        self.instance = instance
    }

    enum CodingKeys: String, CodingKey {
        case method, route, path, query, headers, body, instance, now
        case pathParams = "path_params"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(method: try c.decode(String.self, forKey: .method), route: try c.decode(String.self, forKey: .route),
                  path: try c.decode(String.self, forKey: .path), pathParams: try c.decodeIfPresent([String: String].self, forKey: .pathParams) ?? [:],
                  query: try c.decodeIfPresent([String: String].self, forKey: .query) ?? [:],
                  headers: try c.decodeIfPresent([String: String].self, forKey: .headers) ?? [:],
                  body: try c.decodeIfPresent(String.self, forKey: .body), instance: try c.decodeIfPresent(InstanceInfo.self, forKey: .instance))
        now = try c.decodeIfPresent(Date.self, forKey: .now)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(method, forKey: .method)
        try c.encode(route, forKey: .route)
        try c.encode(path, forKey: .path)
        try c.encode(pathParams, forKey: .pathParams)
        try c.encode(query, forKey: .query)
        try c.encode(headers, forKey: .headers)
        try c.encodeIfPresent(body, forKey: .body)
        try c.encodeIfPresent(instance, forKey: .instance)
        try c.encodeIfPresent(now, forKey: .now)
    }

    /// ABI 1.3 `route` request: frame 1 the JSON head (these members without "body"), frame 2 the body bytes
    /// (left out when there is no body).
    public func framed() throws -> [UInt8] {
        var head = self
        head.bodyBytes = nil
        var w = FrameWriter(capacity: (bodyBytes?.count ?? 0) + 512)
        w.append(try WireJSON.encode(head))
        if let bodyBytes { w.append(bodyBytes) }
        return w.bytes
    }

    public init(framed bytes: [UInt8]) throws {
        var r = FrameReader(bytes)
        do { self = try WireJSON.decode(RouteRequest.self, from: Array(try r.next())) } catch {
            throw PluginError(.invalid, "route request: malformed head: \(error)")
        }
        var found: [UInt8]?
        if !r.isAtEnd { found = Array(try r.next()) }
        bodyBytes = found
    }
}

public struct RouteResponse: Sendable, Codable {
    public var status: Int
    public var headers: [String: String]
    /// The answer's bytes (ABI 1.3: any bytes, e.g. a file; before, UTF-8 text only).
    public var bodyBytes: [UInt8]
    /// ABI 1.1: the host may answer the same GET again with this response, without calling the plugin, for
    /// as long as every record the plugin read through the store in this call is unchanged (and the instance's
    /// config, and `until`). The host ignores it when the call did anything else (fetch, writes, state).
    public var cache: RouteCachePolicy?

    /// The body as text (invalid UTF-8 repaired).
    public var body: String {
        get { String(decoding: bodyBytes, as: UTF8.self) }
        set { bodyBytes = Array(newValue.utf8) }
    }

    public init(status: Int = 200, headers: [String: String] = ["content-type": "application/json"], body: String,
                cache: RouteCachePolicy? = nil) {
        self.init(status: status, headers: headers, bytes: Array(body.utf8), cache: cache)
    }

    public init(status: Int = 200, headers: [String: String], bytes: [UInt8], cache: RouteCachePolicy? = nil) {
        self.status = status
        self.headers = headers
        self.bodyBytes = bytes
        self.cache = cache
    }

    /// A JSON response from an Encodable value.
    public static func json<T: Encodable>(_ value: T, status: Int = 200) throws -> RouteResponse {
        RouteResponse(status: status, headers: ["content-type": "application/json"], bytes: try WireJSON.encode(value))
    }

    enum CodingKeys: String, CodingKey { case status, headers, body, cache }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(status: try c.decode(Int.self, forKey: .status), headers: try c.decodeIfPresent([String: String].self, forKey: .headers) ?? [:],
                  bytes: Array((try c.decodeIfPresent(String.self, forKey: .body) ?? "").utf8),
                  cache: try c.decodeIfPresent(RouteCachePolicy.self, forKey: .cache))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(status, forKey: .status)
        try c.encode(headers, forKey: .headers)
        try c.encode(body, forKey: .body)
        try c.encodeIfPresent(cache, forKey: .cache)
    }

    /// The head of a framed (ABI 1.3) answer.
    struct Head: Codable {
        var status: Int
        var headers: [String: String]?
        var cache: RouteCachePolicy?
    }

    /// ABI 1.3 `route` answer: frame 1 the JSON head `{"status", "headers"?, "cache"?}`, frame 2 the body bytes.
    public func framed() throws -> [UInt8] {
        var w = FrameWriter(capacity: bodyBytes.count + 128)
        w.append(try WireJSON.encode(Head(status: status, headers: headers, cache: cache)))
        w.append(bodyBytes)
        return w.bytes
    }

    public init(framed bytes: [UInt8]) throws {
        var r = FrameReader(bytes)
        let head: Head
        do { head = try WireJSON.decode(Head.self, from: Array(try r.next())) } catch {
            throw PluginError(.invalid, "route answer: malformed head (expected {\"status\", \"headers\"?, \"cache\"?}): \(error)")
        }
        var body: [UInt8] = []
        if !r.isAtEnd { body = Array(try r.next()) }
        self.init(status: head.status, headers: head.headers ?? [:], bytes: body, cache: head.cache)
    }
}

/// How long a route response stays reusable besides "what it read is unchanged": `until_ms` (epoch
/// milliseconds) for answers that depend on the time, e.g. a relative date such as `T-1` or today.
public struct RouteCachePolicy: Sendable, Codable, Equatable {
    public var untilMillis: Int64?

    public init(until: Date? = nil) {
        untilMillis = until.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.down)) }
    }

    enum CodingKeys: String, CodingKey {
        case untilMillis = "until_ms"
    }
}

/// A message for a notifier plugin to deliver.
public struct OutgoingMessage: Sendable, Codable, Equatable {
    public var subject: String?
    public var text: String
    /// "text" | "markdown"
    public var format: String
    public var recipients: [String]
    /// An HTML rendering of the same message (ABI 1.5): e-mail sends it as the alternative to `text`;
    /// channels without HTML send `text`.
    public var html: String?
    /// Files that go with it (ABI 1.5): e-mail attaches them; other channels name them in the text.
    public var attachments: [MessageAttachment]

    public init(subject: String? = nil, text: String, format: String = "text", recipients: [String] = [], html: String? = nil,
                attachments: [MessageAttachment] = []) {
        self.subject = subject
        self.text = text
        self.format = format
        self.recipients = recipients
        self.html = html
        self.attachments = attachments
    }

    enum CodingKeys: String, CodingKey {
        case subject, text, format, recipients, html, attachments
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        subject = try c.decodeIfPresent(String.self, forKey: .subject)
        text = try c.decode(String.self, forKey: .text)
        format = try c.decodeIfPresent(String.self, forKey: .format) ?? "text"
        recipients = try c.decodeIfPresent([String].self, forKey: .recipients) ?? []
        html = try c.decodeIfPresent(String.self, forKey: .html)
        attachments = try c.decodeIfPresent([MessageAttachment].self, forKey: .attachments) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(subject, forKey: .subject)
        try c.encode(text, forKey: .text)
        try c.encode(format, forKey: .format)
        try c.encode(recipients, forKey: .recipients)
        try c.encodeIfPresent(html, forKey: .html)
        if !attachments.isEmpty { try c.encode(attachments, forKey: .attachments) }
    }

    /// The same message for a notifier older than ABI 1.5: no HTML, and the attachments named in the text.
    public var withoutAttachments: OutgoingMessage {
        var m = self
        if !attachments.isEmpty {
            m.text += "\n\n" + attachments.map { "[\($0.filename), \($0.data.count) bytes — not attached: this channel cannot carry files]" }.joined(separator: "\n")
        }
        m.html = nil
        m.attachments = []
        return m
    }
}

public struct SendRequest: Sendable, Codable {
    public var instance: InstanceInfo
    public var message: OutgoingMessage
    public var notificationID: String
    public init(instance: InstanceInfo, message: OutgoingMessage, notificationID: String) {
        self.instance = instance
        self.message = message
        self.notificationID = notificationID
    }

    enum CodingKeys: String, CodingKey {
        case instance, message
        case notificationID = "notification_id"
    }
}

/// The outcome of one delivery attempt.
public struct DeliveryReceipt: Sendable, Codable, Equatable {
    /// sent | partial | unknown (e.g. an SMS timeout: it may or may not have gone out; never blindly retried)
    public var outcome: String
    public var detail: String?
    public init(outcome: String = "sent", detail: String? = nil) {
        self.outcome = outcome
        self.detail = detail
    }
}

/// An empty JSON object, for operations with nothing to say.
public struct Empty: Sendable, Codable { public init() {} }
