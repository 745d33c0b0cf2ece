import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import PluginAPI
import Testing

@testable import Host

struct RunningServer {
    var port: Int
    var task: Task<Void, any Error>
}

/// Starts the admin server on a free loopback port and waits until it listens.
func startServer(_ server: AdminServer) async throws -> RunningServer {
    let (port, task) = try await server.start()
    return RunningServer(port: port, task: task)
}

struct HTTPResult {
    var status: Int
    var body: String
    /// Lower-case names.
    var headers: [String: String] = [:]
    /// The body's bytes as received.
    var bytes: [UInt8] = []
    var json: JSONValue? { try? WireJSON.decode(JSONValue.self, from: Array(body.utf8)) }
}

/// `client`: another client than the shared one (e.g. one that trusts a test certificate).
func request(_ method: String, _ url: String, token: String? = nil, body: String? = nil, bytes: [UInt8]? = nil,
             client: HTTPClient = .shared) async throws -> HTTPResult {
    var req = HTTPClientRequest(url: url)
    req.method = .init(rawValue: method)
    if let token { req.headers.add(name: "authorization", value: "Bearer \(token)") }
    if let body { req.body = .bytes(ByteBuffer(string: body)) }
    if let bytes { req.body = .bytes(ByteBuffer(bytes: bytes)) }
    // 30 s: the whole suite runs in parallel on 2 cores; a slower answer names the call that was slow.
    let resp: HTTPClientResponse
    do { resp = try await client.execute(req, timeout: .seconds(30)) } catch let e as HTTPClientError where e == .deadlineExceeded {
        throw HostError.unavailable("\(method) \(url) did not answer within 30 s")
    }
    // An event stream never ends: its head is the answer (read it with `eventStream`).
    if resp.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true {
        return HTTPResult(status: Int(resp.status.code), body: "", headers: Dictionary(resp.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a }))
    }
    let data = try await resp.body.collect(upTo: 10 << 20)
    return HTTPResult(status: Int(resp.status.code), body: String(buffer: data),
                      headers: Dictionary(resp.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a }),
                      bytes: Array(buffer: data))
}
