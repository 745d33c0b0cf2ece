import Foundation
import PluginAPI
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The host's side of an isolated plugin: its worker process (`synchost plugin-worker FILE`), supervised. Invokes
/// go out as frames, service calls come in and are answered by the same router an in-process plugin uses. A
/// worker that dies fails its in-flight calls with `PluginCrashed` (naming the signal) and is restarted after
/// a backoff; one that stops answering its heartbeat is killed first; after `maxCrashes` in the window the
/// plugin is failing and calls fail at once with the reason. The host and every other plugin go on.
public final class WorkerPlugin: Sendable {
    enum Status: Sendable, Equatable {
        case running, restarting, stopped
        case failing(String)
    }

    /// What `plugins list`, `/api/v1/plugins` and the console show.
    public struct Snapshot: Sendable, Codable, Equatable {
        public var state: String
        public var pid: Int32?
        public var restarts: Int
        public var crashes_in_window: Int
        public var last_crash: String?
        public var failing_reason: String?
    }

    let file: URL
    let router: ServiceRouter
    let policy: IsolationPolicy
    private let writes = DispatchQueue(label: "synchost.worker.write")
    private let timers = DispatchQueue(label: "synchost.worker.heartbeat")

    private struct State {
        var name: String
        var manifest: [UInt8] = []
        var generation = 0
        var process: Process?
        var channel: FrameChannel?
        var status: Status = .restarting
        var pending: [UInt64: InvokeBox] = [:]
        /// Invokes made while the worker restarts: sent once it is up.
        var queued: [WorkerFrame] = []
        var nextCall: UInt64 = 1
        var crashes: [ContinuousClock.Instant] = []
        var restarts = 0
        var lastCrash: String?
        var lastPong = ContinuousClock.now
        var killedForSilence = false
        var heartbeat: HeartbeatTimer?
    }

    /// A dispatch timer is thread-safe to cancel; the type just does not say so.
    struct HeartbeatTimer: @unchecked Sendable {
        let timer: DispatchSourceTimer
    }
    private let state: Mutex<State>

    private init(file: URL, router: ServiceRouter, policy: IsolationPolicy) {
        self.file = file
        self.router = router
        self.policy = policy
        state = Mutex(State(name: file.lastPathComponent))
    }

    var name: String { state.withLock { $0.name } }

    var snapshot: Snapshot {
        state.withLock { s in
            let status: String
            var failing: String?
            switch s.status {
            case .running: status = "running"
            case .restarting: status = "restarting"
            case .stopped: status = "stopped"
            case .failing(let why):
                status = "failing"
                failing = why
            }
            return Snapshot(state: status, pid: s.process?.processIdentifier, restarts: s.restarts, crashes_in_window: s.crashes.count,
                            last_crash: s.lastCrash, failing_reason: failing)
        }
    }

    /// Starts the worker for `file` and checks its descriptor like an in-process load; blocking (the registry's
    /// scan runs off the concurrency pool).
    static func load(_ file: URL, entry: PluginEntry, router: ServiceRouter, policy: IsolationPolicy) -> PluginEntry {
        var failed = entry
        let worker = WorkerPlugin(file: file, router: router, policy: policy)
        let started: Started
        switch worker.start() {
        case .failure(let f):
            failed.status = .failed(reason: "plugin worker: \(f.message)")
            return failed
        case .success(let s): started = s
        }
        var checked = PluginLoader.check(started.facts, entry: entry)
        guard checked.isLoaded, let name = checked.name, let manifest = checked.manifest else {
            started.channel.write(.shutdown)
            return checked
        }
        worker.adopt(started, name: name)
        checked.handle = PluginHandle(name: name, manifest: manifest, backend: .worker(worker), abiVersion: started.facts.abiVersion, router: router)
        router.logger.info("plugin \(name) runs isolated in worker process \(started.process.processIdentifier)")
        return checked
    }

    struct Started {
        var process: Process
        var channel: FrameChannel
        var facts: DescriptorFacts
        var generation: Int
    }

    struct StartFailure: Error {
        var message: String
    }

    /// Spawns a worker on a socket pair and waits for its hello (up to 30 s).
    private func start() -> Result<Started, StartFailure> {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            return .failure(StartFailure(message: "socketpair: \(String(cString: strerror(errno)))"))
        }
        let generation = state.withLock { s -> Int in
            s.generation += 1
            return s.generation
        }
        let process = Process()
        process.executableURL = policy.workerExecutable
        process.arguments = policy.workerArguments(file)
        process.standardInput = FileHandle(fileDescriptor: fds[1], closeOnDealloc: false)
        process.standardOutput = FileHandle.standardError
        // A crashing worker dies at once (the host names the signal): the Swift runtime's symbolicated backtrace
        // takes seconds, during which the plugin's calls would wait.
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        process.environment = environment
        process.terminationHandler = { [weak self] p in self?.exited(p, generation: generation) }
        do { try process.run() } catch {
            close(fds[0])
            close(fds[1])
            return .failure(StartFailure(message: "cannot start \(policy.workerExecutable.path): \(error.localizedDescription)"))
        }
        close(fds[1])
        let channel = FrameChannel(fd: fds[0])
        guard channel.readable(within: 30) else {
            process.terminate()
            channel.close()
            return .failure(StartFailure(message: "the worker did not answer within 30 s"))
        }
        let hello: WorkerFrame?
        do { hello = try channel.read() } catch {
            channel.close()
            return .failure(StartFailure(message: "the worker's first frame is malformed: \(error)"))
        }
        guard case .hello(let facts, let failure) = hello else {
            channel.close()
            return .failure(StartFailure(message: "the worker ended before loading the plugin (see the host's stderr)"))
        }
        guard let facts else {
            channel.close()
            return .failure(StartFailure(message: failure ?? "the worker could not load the file"))
        }
        return .success(Started(process: process, channel: channel, facts: facts, generation: generation))
    }

    /// The worker is up: serve its frames, start the heartbeat, send what waited.
    private func adopt(_ s: Started, name: String? = nil) {
        let queued = state.withLock { st -> [WorkerFrame] in
            if let name {
                st.name = name
                st.manifest = s.facts.manifest
            }
            st.process = s.process
            st.channel = s.channel
            st.status = .running
            st.lastPong = .now
            st.killedForSilence = false
            defer { st.queued = [] }
            return st.queued
        }
        let generation = s.generation
        let reader = Thread { [self] in self.serve(s.channel, generation: generation) }
        reader.name = "synchost-worker-reader"
        reader.start()
        for frame in queued { send(frame, generation: generation) }
        startHeartbeat()
    }

    /// The reader: frames from the worker until it closes.
    private func serve(_ channel: FrameChannel, generation: Int) {
        while true {
            let frame: WorkerFrame?
            do { frame = try channel.read() } catch {
                router.logger.error("plugin worker \(name): \(error); killing it")
                if let p = state.withLock({ $0.generation == generation ? $0.process : nil }) { kill(p.processIdentifier, SIGKILL) }
                return
            }
            guard let frame else { return }  // the worker is gone: `exited` says why
            switch frame {
            case .invokeDone(let call, let status, let body):
                let box = state.withLock { $0.pending.removeValue(forKey: call) }
                box?.resume(status == 0 ? .success(body) : .failure(PluginError(status: status, body: body)))
            case .serviceCall(let call, let service, let session, let op, let body):
                guard Int(service) < WorkerFrame.services.count else {
                    let e = PluginError(.invalid, "unknown service \(service)")
                    send(.serviceDone(call: call, status: e.status, body: e.jsonBody), generation: generation)
                    continue
                }
                router.handle(WorkerFrame.services[Int(service)], plugin: name, session: session, op: op, request: body) { status, answer in
                    self.send(.serviceDone(call: call, status: status, body: answer), generation: generation)
                }
            case .log(let session, let level, let text):
                router.log(plugin: name, session: session, level: level, message: String(decoding: text, as: UTF8.self))
            case .pong:
                state.withLock { $0.lastPong = .now }
            case .hello, .invoke, .cancel, .serviceDone, .ping, .shutdown:
                break  // a worker never sends these
            }
        }
    }

    /// Writes in order, off the caller's thread (a big page must not hold a task of the pool).
    private func send(_ frame: WorkerFrame, generation: Int) {
        writes.async { [self] in
            guard let channel = state.withLock({ $0.generation == generation ? $0.channel : nil }) else { return }
            channel.write(frame)
        }
    }

    func invoke(_ op: String, request: [UInt8], session: UInt64, box: InvokeBox) {
        enum Next { case send(WorkerFrame, Int), wait, fail(PluginError) }
        let next = state.withLock { s -> Next in
            switch s.status {
            case .failing(let why): return .fail(PluginError(.unavailable, "plugin \(s.name) is failing: \(why)"))
            case .stopped: return .fail(PluginError(.unavailable, "plugin \(s.name)'s worker is stopped (the host is shutting down)"))
            case .running, .restarting:
                let call = s.nextCall
                s.nextCall += 1
                s.pending[call] = box
                let frame = WorkerFrame.invoke(call: call, session: session, op: op, body: request)
                if s.status == .restarting {
                    s.queued.append(frame)
                    return .wait
                }
                return .send(frame, s.generation)
            }
        }
        switch next {
        case .send(let frame, let generation): send(frame, generation: generation)
        case .wait: break
        case .fail(let e): box.resume(.failure(e))
        }
    }

    func cancel(session: UInt64) {
        let generation = state.withLock { $0.status == .running ? $0.generation : nil }
        if let generation { send(.cancel(session: session), generation: generation) }
    }

    /// Host shutdown: the plugin's shutdown, then the worker exits (killed if it does not within 2 s).
    func shutdown() {
        let (process, generation) = state.withLock { s -> (Process?, Int) in
            s.status = .stopped
            s.heartbeat?.timer.cancel()
            s.heartbeat = nil
            return (s.process, s.generation)
        }
        send(.shutdown, generation: generation)
        if let process {
            timers.asyncAfter(deadline: .now() + 2) { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        }
    }

    /// No new calls come (the plugin switched mode): stop once the calls it has are answered.
    func retire() {
        timers.asyncAfter(deadline: .now() + 1) { [self] in
            if state.withLock({ $0.pending.isEmpty && $0.queued.isEmpty }) { shutdown() } else { retire() }
        }
    }

    private func startHeartbeat() {
        let timer = DispatchSource.makeTimerSource(queue: timers)
        let interval = Self.seconds(policy.heartbeat)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.beat() }
        let boxed = HeartbeatTimer(timer: timer)
        let old = state.withLock { s -> HeartbeatTimer? in
            defer { s.heartbeat = boxed }
            return s.heartbeat
        }
        old?.timer.cancel()
        timer.resume()
    }

    private func beat() {
        enum Act { case ping(Int), kill(Int32), none }
        let timeout = policy.heartbeatTimeout
        let act = state.withLock { s -> Act in
            guard s.status == .running, let p = s.process else { return .none }
            if ContinuousClock.now - s.lastPong > timeout {
                s.killedForSilence = true
                return .kill(p.processIdentifier)
            }
            return .ping(s.generation)
        }
        switch act {
        case .ping(let generation): send(.ping(UInt64(Date().timeIntervalSince1970 * 1000)), generation: generation)
        case .kill(let pid):
            router.logger.error("plugin worker \(name) (pid \(pid)) did not answer its heartbeat within \(timeout): killing it")
            kill(pid, SIGKILL)
        case .none: break
        }
    }

    /// The worker process ended: fail what was in flight, then restart it after a backoff — or give up.
    private func exited(_ process: Process, generation: Int) {
        let timeout = policy.heartbeatTimeout
        let status = process.terminationStatus
        let signaled = process.terminationReason == .uncaughtSignal
        enum Then { case restart(Double), stop, ignore }
        let (then, inFlight, reason, name) = state.withLock { s -> (Then, [InvokeBox], String, String) in
            guard s.generation == generation else { return (.ignore, [], "", s.name) }
            let reason = s.killedForSilence ? "no heartbeat answer within \(timeout) (killed)"
                : signaled ? PluginCrashed.signalName(status) : "exited with status \(status)"
            let boxes = Array(s.pending.values)
            s.pending = [:]
            s.queued = []
            s.channel?.close()
            s.channel = nil
            s.process = nil
            s.heartbeat?.timer.cancel()
            s.heartbeat = nil
            // Stopped by the host, or already given up on (a worker told to go after a failed restart).
            if s.status == .stopped { return (.ignore, boxes, reason, s.name) }
            if case .failing = s.status { return (.ignore, boxes, reason, s.name) }
            let now = ContinuousClock.now
            s.crashes = s.crashes.filter { now - $0 < policy.crashWindow } + [now]
            s.lastCrash = reason
            if s.crashes.count >= policy.maxCrashes {
                s.status = .failing("crashed \(s.crashes.count) times within \(policy.crashWindow); last: \(reason)")
                return (.stop, boxes, reason, s.name)
            }
            s.status = .restarting
            let backoff = min(30, Self.seconds(policy.restartBackoff) * pow(2, Double(s.crashes.count - 1)))
            return (.restart(backoff), boxes, reason, s.name)
        }
        if case .ignore = then {
            for box in inFlight { box.resume(.failure(PluginError(.unavailable, "plugin \(name)'s worker stopped"))) }
            return
        }
        for box in inFlight { box.resume(.failure(PluginCrashed(plugin: name, reason: reason))) }
        switch then {
        case .restart(let delay):
            router.logger.error("plugin \(name)'s worker died: \(reason); \(inFlight.count) call(s) failed; restarting in \(String(format: "%.1f", delay)) s")
            timers.asyncAfter(deadline: .now() + delay) { [self] in
                Thread.detachNewThread { self.restart() }
            }
        case .stop:
            router.logger.critical("plugin \(name) is failing: its worker crashed \(policy.maxCrashes) times within \(policy.crashWindow) (last: \(reason)); not restarted")
        case .ignore: break
        }
    }

    private func restart() {
        let expected = state.withLock { s -> (String, [UInt8])? in s.status == .restarting ? (s.name, s.manifest) : nil }
        guard let expected else { return }
        switch start() {
        case .failure(let f):
            router.logger.error("plugin \(expected.0)'s worker did not restart: \(f.message)")
            giveUp("the worker did not restart: \(f.message)")
        case .success(let started):
            guard started.facts.name == expected.0, started.facts.manifest == expected.1 else {
                started.channel.write(.shutdown)
                giveUp("the file changed on disk; restart the host to load the new version")
                return
            }
            state.withLock { $0.restarts += 1 }
            adopt(started)
            router.logger.notice("plugin \(expected.0)'s worker restarted as process \(started.process.processIdentifier)")
        }
    }

    /// Not restarted again: the plugin is failing, and what waited for the worker fails with the reason.
    private func giveUp(_ reason: String) {
        let (boxes, name) = state.withLock { s -> ([InvokeBox], String) in
            defer {
                s.pending = [:]
                s.queued = []
                s.status = .failing(reason)
            }
            return (Array(s.pending.values), s.name)
        }
        for box in boxes { box.resume(.failure(PluginError(.unavailable, "plugin \(name) is failing: \(reason)"))) }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
