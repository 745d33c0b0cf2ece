import Foundation

/// Which plugins run in a worker process (`--isolate`, `$SYNCHOST_ISOLATE`; default none: in-process) and how
/// their workers are kept: limits, heartbeat, restarts.
public struct IsolationPolicy: Sendable {
    /// Plugin names or file stems (`vos` matches libVOS.so), or "all".
    public var plugins: Set<String>
    /// Plugins kept in process whatever `plugins` says (an operator's setting for one plugin beats "all").
    public var inProcess: Set<String> = []
    /// The `synchost` binary that runs `plugin-worker` (default: this process's own executable).
    public var workerExecutable: URL
    /// RLIMIT_DATA of a worker in MiB (nil: none).
    public var memoryLimitMB: Int?
    /// RLIMIT_CPU of a worker in seconds (nil: none).
    public var cpuLimitSeconds: Int?
    /// A ping every `heartbeat`; a worker silent for `heartbeatTimeout` is killed and restarted.
    public var heartbeat: Duration
    public var heartbeatTimeout: Duration
    /// A worker that crashes `maxCrashes` times within `crashWindow` is not restarted: the plugin is failing.
    public var maxCrashes: Int
    public var crashWindow: Duration
    /// The first restart waits this long, doubling per crash in the window (at most 30 s).
    public var restartBackoff: Duration

    public init(plugins: Set<String> = [], workerExecutable: URL = IsolationPolicy.ownExecutable, memoryLimitMB: Int? = nil, cpuLimitSeconds: Int? = nil,
                heartbeat: Duration = .seconds(5), heartbeatTimeout: Duration = .seconds(20), maxCrashes: Int = 5, crashWindow: Duration = .seconds(600),
                restartBackoff: Duration = .milliseconds(500)) {
        self.plugins = Set(plugins.map { $0.lowercased() })
        self.workerExecutable = workerExecutable
        self.memoryLimitMB = memoryLimitMB
        self.cpuLimitSeconds = cpuLimitSeconds
        self.heartbeat = heartbeat
        self.heartbeatTimeout = heartbeatTimeout
        self.maxCrashes = maxCrashes
        self.crashWindow = crashWindow
        self.restartBackoff = restartBackoff
    }

    public static var ownExecutable: URL { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath() }

    /// `vos,guanke` → the set; names are plugin names or file stems.
    public static func names(_ list: String?) -> Set<String> {
        Set((list ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).map { $0.lowercased() })
    }

    /// Whether this file's plugin runs in a worker: its stem without `lib` (libVOS.so → vos), or "all".
    func isolates(file: URL) -> Bool {
        let stem = Self.stem(file)
        if inProcess.contains(stem) || inProcess.contains(file.lastPathComponent.lowercased()) { return false }
        if plugins.contains("all") { return true }
        return plugins.contains(stem) || plugins.contains(file.lastPathComponent.lowercased())
    }

    /// With the operators' stored settings (`PATCH /api/v1/plugins/{name}`, by file stem): those win for their plugins.
    public func applying(stored: [String: String]) -> IsolationPolicy {
        var p = self
        for (name, mode) in stored {
            if mode == "process" {
                p.plugins.insert(name.lowercased())
                p.inProcess.remove(name.lowercased())
            } else {
                p.inProcess.insert(name.lowercased())
            }
        }
        return p
    }

    /// A file's name as `--isolate` and the stored settings match it: libVOS.so → vos.
    public static func stem(_ file: URL) -> String {
        var stem = file.deletingPathExtension().lastPathComponent.lowercased()
        if stem.hasPrefix("lib") { stem.removeFirst(3) }
        return stem
    }

    /// This policy with one plugin's file forced into a mode.
    func forcing(_ file: URL, process: Bool) -> IsolationPolicy {
        var p = self
        let stem = Self.stem(file)
        p.plugins.remove(stem)
        p.inProcess.remove(stem)
        if process { p.plugins.insert(stem) } else { p.inProcess.insert(stem) }
        return p
    }

    /// The worker's own arguments.
    func workerArguments(_ file: URL) -> [String] {
        ["plugin-worker", file.path] + (memoryLimitMB.map { ["--memory-mb", String($0)] } ?? []) + (cpuLimitSeconds.map { ["--cpu-seconds", String($0)] } ?? [])
    }
}
