import Foundation
import PluginAPI
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What the host and a plugin worker say to each other over their socket: the C ABI's calls, framed. The
/// bytes of requests and answers are exactly the ABI's; a frame is `[u32 length][u8 type][payload]`,
/// little-endian, the length counting type and payload.
enum WorkerFrame: Equatable {
    /// worker → host, once: the descriptor as the worker read it, or why it could not load the file.
    case hello(facts: DescriptorFacts?, failure: String?)
    /// host → worker: `invoke(session, op, request)`; answered by `invokeDone` with the same call id.
    case invoke(call: UInt64, session: UInt64, op: String, body: [UInt8])
    case invokeDone(call: UInt64, status: Int32, body: [UInt8])
    /// host → worker: the plugin's `cancel(session)`.
    case cancel(session: UInt64)
    /// worker → host: a service call of the plugin (`config`, `fetch`, `store`, `schedule`, `notify`).
    case serviceCall(call: UInt64, service: UInt8, session: UInt64, op: String, body: [UInt8])
    case serviceDone(call: UInt64, status: Int32, body: [UInt8])
    /// worker → host: the plugin's `log(session, level, message)`.
    case log(session: UInt64, level: Int32, text: [UInt8])
    /// The heartbeat: a worker that stops answering pings is killed.
    case ping(UInt64)
    case pong(UInt64)
    /// host → worker: the plugin's `shutdown()`, then exit.
    case shutdown

    static let services: [ServiceRouter.Service] = [.config, .fetch, .store, .schedule, .notify]
    /// A frame larger than this is a broken peer, not data (store pages are a few MiB).
    static let maxLength = 512 << 20

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    private struct Hello: Codable {
        var facts: DescriptorFacts?
        var failure: String?
    }

    var encoded: [UInt8] {
        var out = [UInt8](repeating: 0, count: 4)
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func i32(_ v: Int32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func string(_ s: String) {
            let b = Array(s.utf8)
            withUnsafeBytes(of: UInt16(b.count).littleEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: b)
        }
        switch self {
        case .hello(let facts, let failure):
            out.append(1)
            out.append(contentsOf: (try? WireJSON.encode(Hello(facts: facts, failure: failure))) ?? Array(#"{"failure":"unencodable hello"}"#.utf8))
        case .invoke(let call, let session, let op, let body):
            out.append(2); u64(call); u64(session); string(op); out.append(contentsOf: body)
        case .invokeDone(let call, let status, let body):
            out.append(3); u64(call); i32(status); out.append(contentsOf: body)
        case .cancel(let session):
            out.append(4); u64(session)
        case .serviceCall(let call, let service, let session, let op, let body):
            out.append(5); u64(call); out.append(service); u64(session); string(op); out.append(contentsOf: body)
        case .serviceDone(let call, let status, let body):
            out.append(6); u64(call); i32(status); out.append(contentsOf: body)
        case .log(let session, let level, let text):
            out.append(7); u64(session); i32(level); out.append(contentsOf: text)
        case .ping(let n):
            out.append(8); u64(n)
        case .pong(let n):
            out.append(9); u64(n)
        case .shutdown:
            out.append(10)
        }
        let length = UInt32(out.count - 4).littleEndian
        withUnsafeBytes(of: length) { for i in 0..<4 { out[i] = $0[i] } }
        return out
    }

    /// One frame from its type and payload (the bytes after the length).
    static func decode(_ frame: [UInt8]) throws -> WorkerFrame {
        guard let type = frame.first else { throw Malformed(description: "an empty frame") }
        var at = 1
        func need(_ n: Int) throws {
            guard frame.count - at >= n else { throw Malformed(description: "frame type \(type) is \(frame.count) bytes, too short") }
        }
        func u64() throws -> UInt64 {
            try need(8)
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(frame[at + i]) << (8 * UInt64(i)) }
            at += 8
            return v
        }
        func i32() throws -> Int32 {
            try need(4)
            var v: UInt32 = 0
            for i in 0..<4 { v |= UInt32(frame[at + i]) << (8 * UInt32(i)) }
            at += 4
            return Int32(bitPattern: v)
        }
        func string() throws -> String {
            try need(2)
            let n = Int(frame[at]) | Int(frame[at + 1]) << 8
            at += 2
            try need(n)
            defer { at += n }
            return String(decoding: frame[at..<at + n], as: UTF8.self)
        }
        func rest() -> [UInt8] { Array(frame[at...]) }
        switch type {
        case 1:
            let h = try WireJSON.decode(Hello.self, from: rest())
            return .hello(facts: h.facts, failure: h.failure)
        case 2: return .invoke(call: try u64(), session: try u64(), op: try string(), body: rest())
        case 3: return .invokeDone(call: try u64(), status: try i32(), body: rest())
        case 4: return .cancel(session: try u64())
        case 5:
            let call = try u64()
            try need(1)
            let service = frame[at]
            at += 1
            return .serviceCall(call: call, service: service, session: try u64(), op: try string(), body: rest())
        case 6: return .serviceDone(call: try u64(), status: try i32(), body: rest())
        case 7: return .log(session: try u64(), level: try i32(), text: rest())
        case 8: return .ping(try u64())
        case 9: return .pong(try u64())
        case 10: return .shutdown
        default: throw Malformed(description: "unknown frame type \(type)")
        }
    }
}

/// One end of the socket: whole frames in and out. `read` blocks (its caller is a thread of its own, never the
/// concurrency pool); `write` is serialised so frames from several threads never interleave.
final class FrameChannel: Sendable {
    let fd: Int32
    private let writing = Mutex<Void>(())

    init(fd: Int32) { self.fd = fd }

    /// The next frame, or nil at the end (the peer closed or died).
    func read() throws -> WorkerFrame? {
        var header = [UInt8](repeating: 0, count: 4)
        guard try readExactly(&header) else { return nil }
        let length = Int(header[0]) | Int(header[1]) << 8 | Int(header[2]) << 16 | Int(header[3]) << 24
        guard length >= 1, length <= WorkerFrame.maxLength else { throw WorkerFrame.Malformed(description: "frame length \(length)") }
        var body = [UInt8](repeating: 0, count: length)
        guard try readExactly(&body) else { return nil }
        return try WorkerFrame.decode(body)
    }

    private func readExactly(_ buffer: inout [UInt8]) throws -> Bool {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
            if n == 0 { return false }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET { return false }
                throw WorkerFrame.Malformed(description: "read: \(String(cString: strerror(errno)))")
            }
            done += n
        }
        return true
    }

    /// Whether the whole frame was written (false: the peer is gone).
    @discardableResult
    func write(_ frame: WorkerFrame) -> Bool {
        let bytes = frame.encoded
        return writing.withLock { _ in
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                done += n
            }
            return true
        }
    }

    /// Waits up to `seconds` for something to read.
    func readable(within seconds: Double) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, Int32(seconds * 1000)) > 0
    }

    func close() { _ = Glibc.close(fd) }
}
