/// What a plugin declares about itself. It crosses the ABI as JSON (`sh_plugin_descriptor.manifest`);
/// name, version and kind travel in the descriptor's own fields.
public struct PluginManifest: Sendable, Codable, Equatable {
    public var name: String
    public var version: String
    public var kind: PluginKind
    public var description: String
    public var config: [ConfigKey]
    public var jobs: [JobSpec]
    public var collections: [CollectionSpec]
    public var routes: [RouteSpec]
    /// The console views the host renders for each instance (ABI 1.4; an older host ignores them).
    public var views: [ViewSpec]

    public init(
        name: String, version: String, kind: PluginKind, description: String,
        config: [ConfigKey] = [], jobs: [JobSpec] = [], collections: [CollectionSpec] = [],
        routes: [RouteSpec] = [], views: [ViewSpec] = []
    ) {
        self.name = name
        self.version = version
        self.kind = kind
        self.description = description
        self.config = config
        self.jobs = jobs
        self.collections = collections
        self.routes = routes
        self.views = views
    }

    /// The part of the manifest that travels as the descriptor's JSON.
    public struct Body: Sendable, Codable, Equatable {
        public var description: String
        public var config: [ConfigKey]
        public var jobs: [JobSpec]
        public var collections: [CollectionSpec]
        public var routes: [RouteSpec]
        public var views: [ViewSpec]

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
            config = try c.decodeIfPresent([ConfigKey].self, forKey: .config) ?? []
            jobs = try c.decodeIfPresent([JobSpec].self, forKey: .jobs) ?? []
            collections = try c.decodeIfPresent([CollectionSpec].self, forKey: .collections) ?? []
            routes = try c.decodeIfPresent([RouteSpec].self, forKey: .routes) ?? []
            views = try c.decodeIfPresent([ViewSpec].self, forKey: .views) ?? []
        }

        init(_ m: PluginManifest) {
            description = m.description
            config = m.config
            jobs = m.jobs
            collections = m.collections
            routes = m.routes
            views = m.views
        }
    }

    public var body: Body { Body(self) }

    public init(name: String, version: String, kind: PluginKind, body: Body) {
        self.init(
            name: name, version: version, kind: kind, description: body.description, config: body.config,
            jobs: body.jobs, collections: body.collections, routes: body.routes, views: body.views)
    }

    public func job(named name: String) -> JobSpec? { jobs.first { $0.name == name } }
}

public enum PluginKind: String, Sendable, Codable, Equatable {
    case connector
    case notifier
}

/// One key of an instance's configuration.
public struct ConfigKey: Sendable, Codable, Equatable {
    public enum ValueType: String, Sendable, Codable, Equatable {
        case string, integer, number, boolean
        case stringList = "string_list"
        case object
    }

    public var key: String
    public var type: ValueType
    public var required: Bool
    /// Secret values are write-only: never logged, shown as "***" in responses.
    public var secret: Bool
    public var defaultValue: JSONValue?
    public var description: String

    public init(
        _ key: String, _ type: ValueType, required: Bool = false, secret: Bool = false,
        default defaultValue: JSONValue? = nil, description: String
    ) {
        self.key = key
        self.type = type
        self.required = required
        self.secret = secret
        self.defaultValue = defaultValue
        self.description = description
    }

    enum CodingKeys: String, CodingKey {
        case key, type, required, secret, description
        case defaultValue = "default"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = try c.decode(String.self, forKey: .key)
        type = try c.decode(ValueType.self, forKey: .type)
        required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? false
        secret = try c.decodeIfPresent(Bool.self, forKey: .secret) ?? false
        defaultValue = try c.decodeIfPresent(JSONValue.self, forKey: .defaultValue)
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
    }
}

/// A job a connector can run, with the schedules the host creates for each new instance.
public struct JobSpec: Sendable, Codable, Equatable {
    public var name: String
    public var description: String
    public var params: [ConfigKey]
    public var schedules: [DefaultSchedule]
    public var supportsDryRun: Bool

    public init(
        _ name: String, description: String, params: [ConfigKey] = [], schedules: [DefaultSchedule] = [],
        supportsDryRun: Bool = true
    ) {
        self.name = name
        self.description = description
        self.params = params
        self.schedules = schedules
        self.supportsDryRun = supportsDryRun
    }

    enum CodingKeys: String, CodingKey {
        case name, description, params, schedules
        case supportsDryRun = "supports_dry_run"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
        params = try c.decodeIfPresent([ConfigKey].self, forKey: .params) ?? []
        schedules = try c.decodeIfPresent([DefaultSchedule].self, forKey: .schedules) ?? []
        supportsDryRun = try c.decodeIfPresent(Bool.self, forKey: .supportsDryRun) ?? true
    }
}

/// A schedule created with every new instance; users may edit, disable or delete it afterwards.
public struct DefaultSchedule: Sendable, Codable, Equatable {
    public var cron: String
    public var params: [String: JSONValue]
    public var note: String?

    public init(_ cron: String, params: [String: JSONValue] = [:], note: String? = nil) {
        self.cron = cron
        self.params = params
        self.note = note
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cron = try c.decode(String.self, forKey: .cron)
        params = try c.decodeIfPresent([String: JSONValue].self, forKey: .params) ?? [:]
        note = try c.decodeIfPresent(String.self, forKey: .note)
    }
}

/// A collection of records the connector keeps in the host's store.
public struct CollectionSpec: Sendable, Codable, Equatable {
    public var name: String
    /// The field of a record's data its key comes from (documentation; the plugin hands keys explicitly).
    public var keyField: String
    public var description: String
    /// Whether a completed full sync marks records it did not see as deleted.
    public var tombstones: Bool

    /// The job that re-syncs this collection: a list read with `cache=live` runs it and waits for it.
    public var refreshJob: String?
    /// How long its records are kept (1.4; the host's `retention` job applies it).
    public var retention: RetentionSpec?

    public init(_ name: String, keyField: String, description: String, tombstones: Bool = false, refreshJob: String? = nil,
                retention: RetentionSpec? = nil) {
        self.name = name
        self.keyField = keyField
        self.description = description
        self.tombstones = tombstones
        self.refreshJob = refreshJob
        self.retention = retention
    }

    enum CodingKeys: String, CodingKey {
        case name, description, tombstones, retention
        case keyField = "key_field"
        case refreshJob = "refresh_job"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        keyField = try c.decodeIfPresent(String.self, forKey: .keyField) ?? "key"
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
        tombstones = try c.decodeIfPresent(Bool.self, forKey: .tombstones) ?? false
        refreshJob = try c.decodeIfPresent(String.self, forKey: .refreshJob)
        retention = try c.decodeIfPresent(RetentionSpec.self, forKey: .retention)
    }
}

/// An HTTP route the plugin serves under `/api/v1/plugins/{plugin}/`. `public` routes skip the admin token
/// (the plugin checks its own credentials, e.g. ProjectSync access tokens).
public struct RouteSpec: Sendable, Codable, Equatable {
    public var method: String
    public var path: String
    public var description: String
    public var isPublic: Bool

    public init(_ method: String, _ path: String, description: String, isPublic: Bool = false) {
        self.method = method
        self.path = path
        self.description = description
        self.isPublic = isPublic
    }

    enum CodingKeys: String, CodingKey {
        case method, path, description
        case isPublic = "public"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        method = try c.decode(String.self, forKey: .method)
        path = try c.decode(String.self, forKey: .path)
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
        isPublic = try c.decodeIfPresent(Bool.self, forKey: .isPublic) ?? false
    }
}
