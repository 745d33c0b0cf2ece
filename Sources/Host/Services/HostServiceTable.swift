import PluginAPI
import Synchronization

/// The `sh_host_api` one plugin receives at its entry point. Each plugin gets its own table, whose
/// host_ctx names the plugin, so even calls outside any session (session 0) are attributed correctly.
/// Tables live for the life of the process: the plugin may keep the pointer forever.
final class PluginServiceContext: Sendable {
    let router: ServiceRouter
    private let pluginName: Mutex<String>
    /// Allocated once, never freed (the plugin keeps it).
    nonisolated(unsafe) private(set) var api: UnsafeMutablePointer<sh_host_api>!

    nonisolated(unsafe) static let hostVersion: UnsafePointer<CChar> = {
        let s = Array(SynchostVersion.current.utf8CString)
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: s.count)
        p.initialize(from: s, count: s.count)
        return UnsafePointer(p)
    }()

    init(router: ServiceRouter, provisionalName: String) {
        self.router = router
        self.pluginName = Mutex(provisionalName)
        let table = Self.table(log: logThunk, services: [configThunk, fetchThunk, storeThunk, scheduleThunk, notifyThunk])
        api = table
        // Retained for ever: the plugin may call back at any time.
        table.pointee.host_ctx = Unmanaged.passRetained(self).toOpaque()
    }

    /// A host table of this ABI with these functions (config, fetch, store, schedule, notify, in that order); never
    /// freed (the plugin keeps it). The host's own and a plugin worker's differ only in the functions.
    static func table(log: @escaping @convention(c) (UnsafeMutableRawPointer?, UInt64, Int32, UnsafePointer<UInt8>?, Int) -> Void,
                      services: [sh_service_fn]) -> UnsafeMutablePointer<sh_host_api> {
        let table = UnsafeMutablePointer<sh_host_api>.allocate(capacity: 1)
        table.initialize(to: sh_host_api())
        table.pointee.magic = SH_HOST_MAGIC
        table.pointee.struct_size = UInt32(MemoryLayout<sh_host_api>.size)
        table.pointee.abi_version = (SH_ABI_MAJOR << 16) | SH_ABI_MINOR
        table.pointee.host_version = hostVersion
        table.pointee.log = log
        table.pointee.config = services[0]
        table.pointee.fetch = services[1]
        table.pointee.store = services[2]
        table.pointee.schedule = services[3]
        table.pointee.notify = services[4]
        return table
    }

    /// Set once the descriptor is validated; until then calls are attributed to the file.
    var name: String {
        get { pluginName.withLock { $0 } }
        set { pluginName.withLock { $0 = newValue } }
    }
}

private func dispatch(
    _ service: ServiceRouter.Service, _ hostCtx: UnsafeMutableRawPointer?, _ session: UInt64,
    _ op: UnsafePointer<CChar>?, _ request: UnsafePointer<UInt8>?, _ len: Int,
    _ done: sh_done_fn?, _ doneCtx: UnsafeMutableRawPointer?
) {
    let callback = HostDone(fn: done, ctx: doneCtx)
    guard let hostCtx, let op else {
        let e = PluginError(.invalid, "\(service.rawValue): call without host context or operation")
        callback(e.status, e.jsonBody)
        return
    }
    let context = Unmanaged<PluginServiceContext>.fromOpaque(hostCtx).takeUnretainedValue()
    let bytes = request.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? []
    context.router.handle(service, plugin: context.name, session: session, op: String(cString: op), request: bytes) { status, body in
        callback(status, body)
    }
}

/// A plugin's completion callback, carried to whichever thread completes the call.
struct HostDone: @unchecked Sendable {
    let fn: sh_done_fn?
    let ctx: UnsafeMutableRawPointer?
    func callAsFunction(_ status: Int32, _ body: [UInt8]) {
        body.withUnsafeBufferPointer { fn?(ctx, status, $0.baseAddress, $0.count) }
    }
}

private let logThunk: @convention(c) (UnsafeMutableRawPointer?, UInt64, Int32, UnsafePointer<UInt8>?, Int) -> Void = {
    hostCtx, session, level, message, len in
    guard let hostCtx else { return }
    let context = Unmanaged<PluginServiceContext>.fromOpaque(hostCtx).takeUnretainedValue()
    let text = message.map { String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self) } ?? ""
    context.router.log(plugin: context.name, session: session, level: level, message: text)
}

private let configThunk: sh_service_fn = { dispatch(.config, $0, $1, $2, $3, $4, $5, $6) }
private let fetchThunk: sh_service_fn = { dispatch(.fetch, $0, $1, $2, $3, $4, $5, $6) }
private let storeThunk: sh_service_fn = { dispatch(.store, $0, $1, $2, $3, $4, $5, $6) }
private let scheduleThunk: sh_service_fn = { dispatch(.schedule, $0, $1, $2, $3, $4, $5, $6) }
private let notifyThunk: sh_service_fn = { dispatch(.notify, $0, $1, $2, $3, $4, $5, $6) }
