import Foundation
import PluginAPI
import Synchronization

/// The host's side of one loaded plugin: calls its `invoke` and turns the completion callback into `await`.
/// In process (the default) the descriptor and the image stay alive for the life of the process (never
/// dlclose'd); isolated, the same `.so` runs in a supervised worker process and the calls cross a socket.
public final class PluginHandle: @unchecked Sendable {
    enum Backend {
        case inProcess(UnsafePointer<sh_plugin_descriptor>)
        case worker(WorkerPlugin)
    }

    public let name: String
    public let manifest: PluginManifest
    let backend: Backend
    let abiVersion: UInt32
    /// The ABI minor the plugin was built against (what its payloads look like: e.g. 1.3's framed routes).
    var abiMinor: UInt32 { abiVersion & 0xFFFF }
    let router: ServiceRouter
    /// The manifest's route paths split into segments once (matched on every plugin-route request).
    let routeTemplates: [[String]]

    init(name: String, manifest: PluginManifest, backend: Backend, abiVersion: UInt32, router: ServiceRouter) {
        self.name = name
        self.manifest = manifest
        self.backend = backend
        self.abiVersion = abiVersion
        self.router = router
        routeTemplates = manifest.routes.map { $0.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init) }
    }

    convenience init(name: String, manifest: PluginManifest, backend: Backend, abiVersion: UInt32, services: PluginServiceContext) {
        self.init(name: name, manifest: manifest, backend: backend, abiVersion: abiVersion, router: services.router)
    }

    /// `in-process` or `process`.
    public var isolation: String {
        if case .worker = backend { return "process" }
        return "in-process"
    }

    /// The worker's state when isolated.
    var worker: WorkerPlugin? {
        if case .worker(let w) = backend { return w }
        return nil
    }

    /// Calls one operation of the plugin. The session lets the plugin's service calls act for `context`
    /// (its instance, its run); it closes when this returns, so a plugin that outlives its call (timed out,
    /// cancelled) cannot write for it any more. A plugin that never answers is abandoned after `timeout`.
    public func invoke(_ op: String, request: [UInt8], context: SessionContext, timeout: Duration? = nil) async throws -> [UInt8] {
        let router = self.router
        let session = router.sessions.open(context)
        defer { router.close(session: session) }
        let box = InvokeBox()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8], any Error>) in
                box.install(continuation)
                if Task.isCancelled {
                    box.resume(.failure(PluginError(.cancelled, "\(op) cancelled")))
                    return
                }
                if let timeout {
                    // Fires on time however busy the concurrency pool is.
                    box.setTimer(OneShotTimer(after: timeout) {
                        self.cancelCall(session)
                        box.resume(.failure(PluginError(.cancelled, "\(op) timed out after \(timeout)")))
                    })
                }
                switch backend {
                case .inProcess(let d):
                    let retained = Unmanaged.passRetained(box).toOpaque()
                    request.withUnsafeBufferPointer { buf in
                        op.withCString { opPtr in
                            d.pointee.invoke(d.pointee.plugin_ctx, session, opPtr, buf.baseAddress, buf.count, invokeDoneThunk, retained)
                        }
                    }
                case .worker(let w):
                    w.invoke(op, request: request, session: session, box: box)
                }
            }
        } onCancel: {
            self.cancelCall(session)
            box.resume(.failure(PluginError(.cancelled, "\(op) cancelled")))
        }
    }

    /// JSON in, JSON out.
    public func invoke<Request: Encodable, Response: Decodable>(
        _ op: String, _ request: Request, as: Response.Type, context: SessionContext, timeout: Duration? = nil
    ) async throws -> Response {
        let bytes = try await invoke(op, request: try WireJSON.encode(request), context: context, timeout: timeout)
        do {
            return try WireJSON.decode(Response.self, from: bytes)
        } catch {
            throw PluginError(.internal, "plugin \(name) answered \(op) with malformed JSON: \(error)")
        }
    }

    private func cancelCall(_ session: UInt64) {
        switch backend {
        case .inProcess(let d): d.pointee.cancel?(d.pointee.plugin_ctx, session)
        case .worker(let w): w.cancel(session: session)
        }
    }

    /// Asks the plugin to stop its work; called once at host shutdown (a worker is then stopped).
    func shutdown() {
        switch backend {
        case .inProcess(let d): d.pointee.shutdown?(d.pointee.plugin_ctx)
        case .worker(let w): w.shutdown()
        }
    }
}

/// One pending invoke: resumed exactly once, by the plugin's completion, the timeout or cancellation,
/// whichever comes first. The retained reference handed to the plugin is consumed by its completion.
final class InvokeBox: Sendable {
    private struct State {
        var continuation: CheckedContinuation<[UInt8], any Error>?
        var timer: OneShotTimer?
    }
    private let state = Mutex(State())

    func install(_ c: CheckedContinuation<[UInt8], any Error>) { state.withLock { $0.continuation = c } }

    func setTimer(_ t: OneShotTimer) { state.withLock { $0.timer = t } }

    func resume(_ result: Result<[UInt8], any Error>) {
        let taken = state.withLock { s -> (CheckedContinuation<[UInt8], any Error>?, OneShotTimer?) in
            defer { s.continuation = nil; s.timer = nil }
            return (s.continuation, s.timer)
        }
        guard let c = taken.0 else { return }
        taken.1?.cancel()
        c.resume(with: result)
    }
}

private let invokeDoneThunk: sh_done_fn = { ctx, status, bytes, len in
    guard let ctx else { return }
    let box = Unmanaged<InvokeBox>.fromOpaque(ctx).takeRetainedValue()
    let data = bytes.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? []
    box.resume(status == 0 ? .success(data) : .failure(PluginError(status: status, body: data)))
}
