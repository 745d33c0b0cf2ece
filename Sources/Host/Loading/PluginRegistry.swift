import Foundation
import Logging
import PluginAPI
import Synchronization

/// Every plugin file the host has seen, loaded or failed. Plugins are only ever added: an image cannot be
/// unloaded, so a new version of a loaded plugin takes effect on restart, while a plugin dropped into the
/// directory of a running host is picked up by `rescan()`.
public final class PluginRegistry: Sendable {
    public let directory: URL
    let loader: PluginLoader
    let logger: Logger
    private let state = Mutex<[PluginEntry]>([])
    /// Serialises scans (dlopen and entry calls happen outside the state lock).
    private let scanning = Mutex<Void>(())
    /// Told of each plugin loaded or failed.
    let events: EventBus

    public init(directory: URL, router: ServiceRouter, logger: Logger, events: EventBus = EventBus(), isolation: IsolationPolicy = IsolationPolicy()) {
        self.directory = directory
        self.events = events
        self.loader = PluginLoader(router: router, isolation: isolation)
        self.logger = logger
    }

    public var entries: [PluginEntry] { state.withLock { $0 } }

    public var loaded: [PluginHandle] { entries.compactMap(\.handle) }

    public func plugin(named name: String) -> PluginHandle? {
        // Under the lock, without copying the entries (every plugin route request asks).
        state.withLock { entries in entries.first { $0.name == name && $0.isLoaded }?.handle }
    }

    /// The entry for a plugin name, loaded or not (a failed one is found by its name when the descriptor
    /// was readable, else by its file name).
    public func entry(named name: String) -> PluginEntry? {
        let all = entries
        return all.first { $0.name == name && $0.isLoaded } ?? all.first { $0.name == name }
            ?? all.first { URL(fileURLWithPath: $0.path).lastPathComponent == name }
    }

    public struct ScanResult: Sendable {
        public var added: [PluginEntry]
        public var changed: [String]
    }

    /// Loads every file not seen before; notes files that changed or disappeared since they were loaded.
    @discardableResult
    /// `rescan()` from async code: dlopen blocks (it reads and relocates whole images), so it runs on a thread
    /// of its own instead of the concurrency pool.
    public func scan() async throws -> ScanResult {
        try await offPool { try self.rescan() }
    }

    public func rescan() throws -> ScanResult {
        try scanning.withLock { _ in
            let files = try PluginDiscovery.sharedObjects(in: directory)
            let known = Dictionary(entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
            var added: [PluginEntry] = []
            var changed: [String] = []
            for file in files {
                if let old = known[file.path] {
                    let now = PluginDiscovery.fingerprint(of: file)
                    if now != old.fingerprint, old.isLoaded {
                        changed.append(file.path)
                        update(path: file.path) { $0.notice = "the file changed on disk; restart the host to load the new version" }
                    } else if now != old.fingerprint {
                        // A failed file may be fixed in place: try it again.
                        remove(path: file.path)
                        added.append(register(loader.load(file)))
                    }
                    continue
                }
                added.append(register(loader.load(file)))
            }
            let present = Set(files.map(\.path))
            for e in entries where !present.contains(e.path) && e.isLoaded && e.notice == nil {
                update(path: e.path) { $0.notice = "the file was removed; the plugin stays loaded until the host restarts" }
            }
            return ScanResult(added: added, changed: changed)
        }
    }

    /// Adds a freshly loaded entry, refusing a second plugin of a name already loaded.
    private func register(_ loadedEntry: PluginEntry) -> PluginEntry {
        var e = loadedEntry
        if e.isLoaded, let name = e.name, let other = entries.first(where: { $0.name == name && $0.isLoaded }) {
            e.status = .failed(reason: "duplicate plugin name \(name.debugDescription): already loaded from \(other.path)")
            e.handle = nil
        }
        let file = JSONValue.string(URL(fileURLWithPath: e.path).lastPathComponent)
        switch e.status {
        case .loaded:
            logger.info("loaded plugin \(e.name ?? "?") \(e.version ?? "?") (\(e.kind?.rawValue ?? "?"), ABI \(e.abiDescription ?? "?")) from \(e.path)")
            events.publish(HostEvent.pluginLoaded, ["name": .string(e.name ?? ""), "version": .string(e.version ?? ""), "file": file])
        case .failed(let reason):
            logger.error("plugin \(e.path) failed to load: \(reason)")
            events.publish(HostEvent.pluginFailed, ["name": e.name.map(JSONValue.string) ?? .null, "file": file, "reason": .string(reason)])
        }
        state.withLock { $0.append(e) }
        return e
    }

    private func update(path: String, _ change: (inout PluginEntry) -> Void) {
        state.withLock { all in
            if let i = all.firstIndex(where: { $0.path == path }) { change(&all[i]) }
        }
    }

    private func remove(path: String) {
        state.withLock { $0.removeAll { $0.path == path } }
    }

    /// Runs a loaded plugin the other way from now on: its file loaded afresh in process or in a new worker, the
    /// handle swapped (calls already made finish on the old one; an old worker is stopped after them, an old
    /// in-process image stays mapped, idle). Blocking (dlopen, a worker's start): call it off the pool.
    public func switchIsolation(of name: String, toProcess: Bool) throws -> PluginEntry {
        try scanning.withLock { _ in
            guard let old = entries.first(where: { $0.name == name && $0.isLoaded }), let oldHandle = old.handle else {
                throw HostError.notFound("no loaded plugin named \(name.debugDescription)")
            }
            if (oldHandle.isolation == "process") == toProcess { return old }
            let file = URL(fileURLWithPath: old.path)
            var loader = self.loader
            loader.isolation = loader.isolation.forcing(file, process: toProcess)
            let fresh = loader.load(file)
            guard fresh.isLoaded, let handle = fresh.handle, fresh.name == name, fresh.manifest == old.manifest else {
                throw HostError.conflict("plugin \(name) cannot switch: " + (fresh.failureReason ?? "the file on disk is no longer the loaded version; restart the host"))
            }
            update(path: old.path) { $0.handle = handle }
            oldHandle.worker?.retire()
            logger.notice("plugin \(name) now runs \(toProcess ? "in a worker process" : "in process")")
            return entries.first { $0.path == old.path } ?? fresh
        }
    }

    /// Tells every loaded plugin the host is stopping.
    public func shutdown() {
        for handle in loaded { handle.shutdown() }
    }
}
