import PluginAPI
import Synchronization

/// Who a plugin's service call acts for: the plugin, and (inside a call) the instance and run.
public struct SessionContext: Sendable {
    /// The session's id while it is open (0 for calls outside any session).
    public internal(set) var id: UInt64 = 0
    public var plugin: String
    public var instance: InstanceInfo?
    public var runID: String?
    public var dryRun: Bool
    /// Values never to be written to a log or a response (the instance's secret config values).
    public var secrets: [String]
    /// What the store did for this call, counted by the host (the run's authoritative counts).
    public var tally: RunTally?
    /// A route call whose answer may be reused: what it read (see `PluginRouteCache`).
    public var reads: RouteReadLog?
    /// Why this call may not reach the upstream (its instance is disabled): `fetch` refuses with it, so a
    /// plugin's live path falls back to its cache or says so.
    public var upstreamRefusal: String?

    public init(plugin: String, instance: InstanceInfo? = nil, runID: String? = nil, dryRun: Bool = false, secrets: [String] = [],
                tally: RunTally? = nil, reads: RouteReadLog? = nil) {
        self.plugin = plugin
        self.instance = instance
        self.runID = runID
        self.dryRun = dryRun
        self.secrets = secrets
        self.tally = tally
        self.reads = reads
    }
}

/// Store counts accumulated over one call's upserts.
public final class RunTally: Sendable {
    static let maxLines = 100
    private let counts = Mutex(RunCounts())
    private let lines = Mutex<[String]>([])
    private let notes = Mutex<[String: [JSONValue]]>([:])
    public init() {}

    /// What a dry run would have done but did not (`would_send`, `would_enqueue`, `would_set_state`): the run's
    /// details show it.
    func wouldDo(_ kind: String, _ what: JSONValue) { notes.withLock { $0[kind, default: []].append(what) } }
    public var wouldHaveDone: [String: JSONValue] { notes.withLock { $0.mapValues(JSONValue.array) } }
    func add(_ c: RunCounts) { counts.withLock { $0 += c } }
    public var total: RunCounts { counts.withLock { $0 } }

    /// Keeps the run's last log lines (already masked) for its record.
    func log(_ line: String) {
        lines.withLock { l in
            l.append(String(line.prefix(500)))
            if l.count > Self.maxLines { l.removeFirst(l.count - Self.maxLines) }
        }
    }

    public var excerpt: String? { lines.withLock { $0.isEmpty ? nil : $0.joined(separator: "\n") } }
}

/// Sessions of in-flight plugin calls. A session id is handed to the plugin with each invoke and comes back
/// with each service call; ids are never reused, so a late call for a finished session is refused.
public final class SessionTable: Sendable {
    private let state = Mutex<(next: UInt64, open: [UInt64: SessionContext])>((1, [:]))

    public init() {}

    func open(_ context: SessionContext) -> UInt64 {
        state.withLock { s in
            let id = s.next
            s.next += 1
            var c = context
            c.id = id
            s.open[id] = c
            return id
        }
    }

    func close(_ id: UInt64) { _ = state.withLock { $0.open.removeValue(forKey: id) } }

    func context(_ id: UInt64) -> SessionContext? { state.withLock { $0.open[id] } }

    var openCount: Int { state.withLock { $0.open.count } }
}
