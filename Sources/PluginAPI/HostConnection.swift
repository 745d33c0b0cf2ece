import PluginABI

/// The host's service table as the plugin received it at its entry point. The host keeps the table alive
/// for the life of the process, so holding the pointer is safe; the functions are callable from any thread.
public struct HostConnection: @unchecked Sendable {
    let api: UnsafePointer<sh_host_api>

    init(_ api: UnsafePointer<sh_host_api>) { self.api = api }

    public enum Service: String, Sendable {
        case config, fetch, store, schedule, notify
    }

    /// The host's ABI version (major << 16 | minor).
    public var abiVersion: UInt32 { api.pointee.abi_version }

    func serviceFunction(_ service: Service) -> sh_service_fn? {
        switch service {
        case .config: api.pointee.config
        case .fetch: api.pointee.fetch
        case .store: api.pointee.store
        case .schedule: api.pointee.schedule
        case .notify: api.pointee.notify
        }
    }

    /// Calls a host service and suspends until its completion callback reports.
    public func call(_ service: Service, session: UInt64, op: String, request: [UInt8]) async throws -> [UInt8] {
        guard let fn = serviceFunction(service) else {
            throw PluginError(.unavailable, "the host provides no \(service.rawValue) service")
        }
        let hostCtx = api.pointee.host_ctx
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8], any Error>) in
            let box = Unmanaged.passRetained(CompletionBox(continuation)).toOpaque()
            request.withUnsafeBufferPointer { buf in
                op.withCString { opPtr in
                    fn(hostCtx, session, opPtr, buf.baseAddress, buf.count, completionThunk, box)
                }
            }
        }
    }

    public func log(session: UInt64, level: LogLevel, _ message: String) {
        guard let fn = api.pointee.log else { return }
        var text = message
        text.withUTF8 { buf in fn(api.pointee.host_ctx, session, level.rawValue, buf.baseAddress, buf.count) }
    }
}

/// Holds a continuation across the C boundary; the retained reference is consumed by the completion.
/// (Package-visible: PluginTesting's fake host completes its invokes the same way.)
package final class CompletionBox: @unchecked Sendable {
    let continuation: CheckedContinuation<[UInt8], any Error>
    package init(_ c: CheckedContinuation<[UInt8], any Error>) { continuation = c }
}

/// The host calls this exactly once per service call, from any thread.
package let completionThunk: sh_done_fn = { ctx, status, bytes, len in
    guard let ctx else { return }
    let box = Unmanaged<CompletionBox>.fromOpaque(ctx).takeRetainedValue()
    let data = bytes.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? []
    if status == Int32(SH_OK.rawValue) {
        box.continuation.resume(returning: data)
    } else {
        box.continuation.resume(throwing: PluginError(status: status, body: data))
    }
}

public enum LogLevel: Int32, Sendable, Codable, CaseIterable {
    case trace = 0, debug, info, notice, warning, error, critical
}
