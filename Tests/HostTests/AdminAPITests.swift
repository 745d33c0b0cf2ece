import AsyncHTTPClient
import Foundation
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
    let (stream, continuation) = AsyncStream<Int>.makeStream()
    let task = Task { try await server.run(host: "127.0.0.1", port: 0) { continuation.yield($0) } }
    for await port in stream { return RunningServer(port: port, task: task) }
    throw HostError.unavailable("server did not start")
}

struct HTTPResult {
    var status: Int
    var body: String
    var json: JSONValue? { try? WireJSON.decode(JSONValue.self, from: Array(body.utf8)) }
}

func request(_ method: String, _ url: String, token: String? = nil, body: String? = nil) async throws -> HTTPResult {
    var req = HTTPClientRequest(url: url)
    req.method = .init(rawValue: method)
    if let token { req.headers.add(name: "authorization", value: "Bearer \(token)") }
    if let body { req.body = .bytes(ByteBuffer(string: body)) }
    let resp = try await HTTPClient.shared.execute(req, timeout: .seconds(10))
    let data = try await resp.body.collect(upTo: 10 << 20)
    return HTTPResult(status: Int(resp.status.code), body: String(buffer: data))
}

@Suite("Admin API: health, plugins, rescan, auth")
struct AdminAPITests {
    @Test func healthIsOpenAndEverythingElseNeedsTheToken() async throws {
        let dir = try pluginDirectoryWithInTreePlugins()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "junk".write(to: dir.appendingPathComponent("junk.so"), atomically: true, encoding: .utf8)
        let kernel = try makeKernel(dir)
        let server = try await startServer(AdminServer(kernel: kernel, token: "s3cret-token"))
        defer { server.task.cancel() }
        let base = "http://127.0.0.1:\(server.port)"

        let health = try await request("GET", "\(base)/healthz")
        #expect(health.status == 200)
        #expect(health.json?["loaded"] == 5)
        #expect(health.json?["failed"] == 1)
        #expect(health.json?["plugins"]?["vos"] == "loaded")

        for token in [nil, "wrong", "s3cret-tokenX", "s3cret-toke"] {
            let r = try await request("GET", "\(base)/api/v1/plugins", token: token)
            #expect(r.status == 401)
            #expect(r.json?["error"]?["code"] == "unauthorized")
            #expect(!r.body.contains("s3cret"))
        }

        let list = try await request("GET", "\(base)/api/v1/plugins", token: "s3cret-token")
        #expect(list.status == 200)
        let views = try WireJSON.decode([PluginView].self, from: Array(list.body.utf8))
        #expect(views.count == 6)
        let junk = try #require(views.first { $0.name == "junk.so" })
        #expect(junk.status == "failed")
        #expect(junk.reason?.contains("dlopen failed") == true)

        let one = try await request("GET", "\(base)/api/v1/plugins/wecom", token: "s3cret-token")
        #expect(one.status == 200)
        #expect(one.json?["jobs"]?.arrayValue?.count == 3)
        #expect(one.json?["abi"] == "1.0")

        let missing = try await request("GET", "\(base)/api/v1/plugins/nope", token: "s3cret-token")
        #expect(missing.status == 404)
        #expect(missing.json?["error"]?["message"] == "no plugin named \"nope\"")

        _ = try await compileCPlugin(into: dir, fileName: "tiny.so")
        let rescan = try await request("POST", "\(base)/api/v1/plugins/rescan", token: "s3cret-token")
        #expect(rescan.status == 200)
        #expect(rescan.json?["added"]?.arrayValue?.first?["name"] == "tiny_c")
        let after = try await request("GET", "\(base)/api/v1/plugins/tiny_c", token: "s3cret-token")
        #expect(after.json?["status"] == "loaded")
    }
}
