@_exported import PluginABI
import Synchronization

/// Turns a Swift plugin type into the C descriptor the host loads. Used by the plugin's one export line.
public enum PluginExport {
    public static func connector<C: Connector>(
        _ type: C.Type, host: UnsafePointer<sh_host_api>?, abi: UInt32
    ) -> UnsafePointer<sh_plugin_descriptor>? {
        export(type, host: host, abi: abi) { plugin, op, request, services in
            switch op {
            case PluginOperation.run:
                let req: RunRequest
                do { req = try RunRequest(json: try JSONValue.parse(request)) } catch {
                    throw PluginError(.internal, "malformed run request: \(error)")
                }
                return try await plugin.run(job: req.job, context: JobContext(request: req, host: services)).json.jsonBytes
            case PluginOperation.instanceCreated:
                let req = try WireJSON.decode(InstanceEvent.self, from: request)
                try await plugin.onInstanceCreated(context: InstanceContext(instance: req.instance, host: services))
                return try WireJSON.encode(Empty())
            case PluginOperation.fetchRecord:
                let req = try WireJSON.decode(RecordFetchRequest.self, from: request)
                let record = try await plugin.fetchRecord(
                    collection: req.collection, key: req.key, context: InstanceContext(instance: req.instance, host: services))
                return try WireJSON.encode(RecordFetchResult(record: record))
            default:
                return nil
            }
        }
    }

    public static func notifier<N: Notifier>(
        _ type: N.Type, host: UnsafePointer<sh_host_api>?, abi: UInt32
    ) -> UnsafePointer<sh_plugin_descriptor>? {
        export(type, host: host, abi: abi) { plugin, op, request, services in
            guard op == PluginOperation.send else { return nil }
            let req = try WireJSON.decode(SendRequest.self, from: request)
            return try WireJSON.encode(try await plugin.send(req.message, context: InstanceContext(instance: req.instance, host: services)))
        }
    }

    /// Operations every kind shares; `specific` answers the kind's own operations (nil = not one of them).
    private static func export<P: Plugin>(
        _ type: P.Type, host: UnsafePointer<sh_host_api>?, abi: UInt32,
        specific: @escaping @Sendable (P, String, [UInt8], HostServices) async throws -> [UInt8]?
    ) -> UnsafePointer<sh_plugin_descriptor>? {
        // Refuse a host of another ABI major: its table may not mean what this SDK thinks.
        guard let host, host.pointee.magic == SH_HOST_MAGIC,
            abi >> 16 == SH_ABI_MAJOR, host.pointee.abi_version >> 16 == SH_ABI_MAJOR
        else { return nil }
        let connection = HostConnection(host)
        let plugin = P()
        let runtime = PluginRuntime(connection: connection) { op, request, services in
            switch op {
            case PluginOperation.validateConfig:
                try plugin.validate(config: try WireJSON.decode(ConfigValidationRequest.self, from: request).config)
                return try WireJSON.encode(Empty())
            case PluginOperation.route:
                // This SDK declares ABI 1.3: route bodies travel as frames, any bytes.
                let req = try RouteRequest(framed: request)
                let context = req.now.map { RouteContext(host: services, instance: req.instance, now: $0) } ?? RouteContext(host: services, instance: req.instance)
                return try await plugin.handle(route: req, context: context).framed()
            default:
                if let response = try await specific(plugin, op, request, services) { return response }
                throw PluginError(.unavailable, "plugin \(P.manifest.name) does not support operation \(op)")
            }
        }
        let m = P.manifest
        let manifestBytes = (try? WireJSON.encode(m.body)) ?? []
        let d = UnsafeMutablePointer<sh_plugin_descriptor>.allocate(capacity: 1)
        d.initialize(to: sh_plugin_descriptor())
        d.pointee.magic = SH_PLUGIN_MAGIC
        d.pointee.struct_size = UInt32(MemoryLayout<sh_plugin_descriptor>.size)
        d.pointee.abi_version = (SH_ABI_MAJOR << 16) | SH_ABI_MINOR
        d.pointee.name = permanentCString(m.name)
        d.pointee.version = permanentCString(m.version)
        d.pointee.kind = m.kind == .connector ? SH_KIND_CONNECTOR.rawValue : SH_KIND_NOTIFIER.rawValue
        d.pointee.toolchain = permanentCString(SwiftToolchain.current)
        let manifestBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(manifestBytes.count, 1))
        manifestBuffer.initialize(from: manifestBytes, count: manifestBytes.count)
        d.pointee.manifest = UnsafePointer(manifestBuffer)
        d.pointee.manifest_len = manifestBytes.count
        // Retained for the life of the process: the image is never unloaded.
        d.pointee.plugin_ctx = Unmanaged.passRetained(runtime).toOpaque()
        d.pointee.invoke = invokeThunk
        d.pointee.cancel = cancelThunk
        d.pointee.shutdown = shutdownThunk
        return UnsafePointer(d)
    }

    private static func permanentCString(_ s: String) -> UnsafePointer<CChar> {
        let utf8 = Array(s.utf8CString)
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count)
        p.initialize(from: utf8, count: utf8.count)
        return UnsafePointer(p)
    }
}

/// The plugin side of every call: runs each invoke in its own Task, remembers it by session for cancel().
final class PluginRuntime: Sendable {
    typealias Handler = @Sendable (String, [UInt8], HostServices) async throws -> [UInt8]

    let connection: HostConnection
    let handler: Handler
    let calls = Mutex<[UInt64: Task<Void, Never>]>([:])

    init(connection: HostConnection, handler: @escaping Handler) {
        self.connection = connection
        self.handler = handler
    }

    func invoke(session: UInt64, op: String, request: [UInt8], done: DoneCallback) {
        let services = HostServices(connection: connection, session: session)
        let handler = self.handler
        // Registered under the lock before it can finish, so a fast task cannot leave a stale entry.
        calls.withLock { calls in
            let task = Task {
                let status: Int32
                let body: [UInt8]
                do {
                    body = try await handler(op, request, services)
                    status = 0
                } catch {
                    let e = PluginError.wrapping(error)
                    status = e.status
                    body = e.jsonBody
                }
                self.finished(session)
                done.call(status: status, body: body)
            }
            calls[session] = task
        }
    }

    private func finished(_ session: UInt64) {
        _ = calls.withLock { $0.removeValue(forKey: session) }
    }

    func cancel(session: UInt64) {
        calls.withLock { $0[session] }?.cancel()
    }
}

/// The host's completion callback for one invoke; called exactly once.
struct DoneCallback: @unchecked Sendable {
    let fn: sh_done_fn?
    let ctx: UnsafeMutableRawPointer?

    func call(status: Int32, body: [UInt8]) {
        body.withUnsafeBufferPointer { fn?(ctx, status, $0.baseAddress, $0.count) }
    }
}

private let invokeThunk: @convention(c) (
    UnsafeMutableRawPointer?, UInt64, UnsafePointer<CChar>?, UnsafePointer<UInt8>?, Int, sh_done_fn?,
    UnsafeMutableRawPointer?
) -> Void = { ctx, session, op, request, len, done, doneCtx in
    let callback = DoneCallback(fn: done, ctx: doneCtx)
    guard let ctx, let op else {
        callback.call(status: Int32(SH_ERR_INVALID.rawValue), body: PluginError(.invalid, "invoke without context or operation").jsonBody)
        return
    }
    let runtime = Unmanaged<PluginRuntime>.fromOpaque(ctx).takeUnretainedValue()
    let bytes = request.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? []
    runtime.invoke(session: session, op: String(cString: op), request: bytes, done: callback)
}

private let cancelThunk: @convention(c) (UnsafeMutableRawPointer?, UInt64) -> Void = { ctx, session in
    guard let ctx else { return }
    Unmanaged<PluginRuntime>.fromOpaque(ctx).takeUnretainedValue().cancel(session: session)
}

private let shutdownThunk: @convention(c) (UnsafeMutableRawPointer?) -> Void = { ctx in
    guard let ctx else { return }
    // Cancel anything still running; the runtime itself stays alive (the image is never unloaded).
    let runtime = Unmanaged<PluginRuntime>.fromOpaque(ctx).takeUnretainedValue()
    runtime.calls.withLock { calls in calls.values.forEach { $0.cancel() } }
}
