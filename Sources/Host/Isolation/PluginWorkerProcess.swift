import Foundation
import PluginAPI
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The worker side (`synchost plugin-worker FILE`): dlopens one plugin `.so` exactly as the host does, hands it
/// a host table whose services are frames to the host, and runs the host's invokes. The plugin cannot tell.
/// Its socket is fd 0 at start; stdout goes to stderr so nothing a plugin prints can corrupt the frames.
final class PluginWorkerProcess: Sendable {
    let channel: FrameChannel
    private let pending = Mutex<(next: UInt64, calls: [UInt64: HostDone])>((1, [:]))
    nonisolated(unsafe) private(set) var api: UnsafeMutablePointer<sh_host_api>!

    init(socket: Int32) {
        channel = FrameChannel(fd: socket)
        // The same table as the host's, whose service functions send frames (indices of WorkerFrame.services).
        let table = PluginServiceContext.table(log: workerLogThunk, services: [
            { workerDispatch(0, $0, $1, $2, $3, $4, $5, $6) }, { workerDispatch(1, $0, $1, $2, $3, $4, $5, $6) },
            { workerDispatch(2, $0, $1, $2, $3, $4, $5, $6) }, { workerDispatch(3, $0, $1, $2, $3, $4, $5, $6) },
            { workerDispatch(4, $0, $1, $2, $3, $4, $5, $6) },
        ])
        api = table
        table.pointee.host_ctx = Unmanaged.passRetained(self).toOpaque()
    }

    /// Limits that Linux enforces on this process alone: data (heap and anonymous mappings) and CPU seconds.
    static func applyLimits(memoryMB: Int?, cpuSeconds: Int?) {
        if let mb = memoryMB, mb > 0 {
            var l = rlimit(rlim_cur: rlim_t(mb) << 20, rlim_max: rlim_t(mb) << 20)
            setrlimit(__rlimit_resource_t(RLIMIT_DATA.rawValue), &l)
        }
        if let s = cpuSeconds, s > 0 {
            var l = rlimit(rlim_cur: rlim_t(s), rlim_max: rlim_t(s) + 5)
            setrlimit(__rlimit_resource_t(RLIMIT_CPU.rawValue), &l)
        }
    }

    /// Loads the file, says hello, then serves the host on a thread of its own until the host says shutdown or
    /// goes away (the process then exits).
    static func start(file: URL, memoryMB: Int?, cpuSeconds: Int?) {
        // The socket moves off fd 0; fd 1 becomes stderr (a plugin's printf must not reach the socket).
        let socket = dup(0)
        let null = open("/dev/null", O_RDONLY)
        dup2(null, 0)
        dup2(2, 1)
        _ = fcntl(socket, F_SETFD, FD_CLOEXEC)
        applyLimits(memoryMB: memoryMB, cpuSeconds: cpuSeconds)
        let worker = PluginWorkerProcess(socket: socket)
        let descriptor: UnsafePointer<sh_plugin_descriptor>
        switch PluginLoader.open(file, fingerprint: "worker", api: worker.api) {
        case .failure(let f):
            worker.channel.write(.hello(facts: nil, failure: f.message))
            exit(0)
        case .success(let d): descriptor = d
        }
        let facts = DescriptorFacts(descriptor)
        worker.channel.write(.hello(facts: facts, failure: nil))
        guard facts.magic == SH_PLUGIN_MAGIC, facts.hasInvoke else { exit(0) }
        let d = UncheckedDescriptor(pointer: descriptor)
        let reader = Thread { worker.loop(d.pointer) }
        reader.name = "synchost-worker-frames"
        reader.start()
    }

    /// The descriptor lives for the process; handed to the reader thread.
    struct UncheckedDescriptor: @unchecked Sendable {
        let pointer: UnsafePointer<sh_plugin_descriptor>
    }

    private func loop(_ d: UnsafePointer<sh_plugin_descriptor>) -> Never {
        while true {
            let frame: WorkerFrame?
            do { frame = try channel.read() } catch {
                FileHandle.standardError.write(Data("plugin worker: \(error); exiting\n".utf8))
                exit(3)
            }
            guard let frame else { exit(0) }  // the host is gone
            switch frame {
            case .invoke(let call, let session, let op, let body):
                let ctx = Unmanaged.passRetained(InvokeCall(worker: self, call: call)).toOpaque()
                body.withUnsafeBufferPointer { buf in
                    op.withCString { d.pointee.invoke(d.pointee.plugin_ctx, session, $0, buf.baseAddress, buf.count, workerInvokeDone, ctx) }
                }
            case .cancel(let session):
                d.pointee.cancel?(d.pointee.plugin_ctx, session)
            case .serviceDone(let call, let status, let body):
                let done = pending.withLock { $0.calls.removeValue(forKey: call) }
                done?(status, body)
            case .ping(let n):
                channel.write(.pong(n))
            case .shutdown:
                d.pointee.shutdown?(d.pointee.plugin_ctx)
                exit(0)
            case .hello, .invokeDone, .serviceCall, .log, .pong:
                break  // the host never sends these
            }
        }
    }

    /// A service call of the plugin: forwarded; its `done` is called when the host's answer arrives.
    fileprivate func forward(service: UInt8, session: UInt64, op: String, body: [UInt8], done: HostDone) {
        let call = pending.withLock { p -> UInt64 in
            let c = p.next
            p.next += 1
            p.calls[c] = done
            return c
        }
        if !channel.write(.serviceCall(call: call, service: service, session: session, op: op, body: body)) {
            _ = pending.withLock { $0.calls.removeValue(forKey: call) }
            let e = PluginError(.unavailable, "the host is gone")
            done(e.status, e.jsonBody)
        }
    }
}

/// One invoke in the worker: its completion goes back as `invokeDone`.
private final class InvokeCall {
    let worker: PluginWorkerProcess
    let call: UInt64
    init(worker: PluginWorkerProcess, call: UInt64) {
        self.worker = worker
        self.call = call
    }
}

private let workerInvokeDone: sh_done_fn = { ctx, status, bytes, len in
    guard let ctx else { return }
    let c = Unmanaged<InvokeCall>.fromOpaque(ctx).takeRetainedValue()
    let body = bytes.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? []
    c.worker.channel.write(.invokeDone(call: c.call, status: status, body: body))
}

private func workerDispatch(
    _ service: UInt8, _ hostCtx: UnsafeMutableRawPointer?, _ session: UInt64, _ op: UnsafePointer<CChar>?,
    _ request: UnsafePointer<UInt8>?, _ len: Int, _ done: sh_done_fn?, _ doneCtx: UnsafeMutableRawPointer?
) {
    let callback = HostDone(fn: done, ctx: doneCtx)
    guard let hostCtx, let op else {
        let e = PluginError(.invalid, "service call without host context or operation")
        callback(e.status, e.jsonBody)
        return
    }
    let worker = Unmanaged<PluginWorkerProcess>.fromOpaque(hostCtx).takeUnretainedValue()
    let body = request.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? []
    worker.forward(service: service, session: session, op: String(cString: op), body: body, done: callback)
}

private let workerLogThunk: @convention(c) (UnsafeMutableRawPointer?, UInt64, Int32, UnsafePointer<UInt8>?, Int) -> Void = {
    hostCtx, session, level, message, len in
    guard let hostCtx else { return }
    let worker = Unmanaged<PluginWorkerProcess>.fromOpaque(hostCtx).takeUnretainedValue()
    let text = message.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? []
    worker.channel.write(.log(session: session, level: level, text: text))
}
