import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// A recognisable secret goes in through the API; a sync runs with debug logging; every byte the host wrote
/// (responses, stdout, stderr log) is searched for it.
@Suite("Secrets never appear in responses or logs")
struct SecretTests {
    @Test func aSecretConfigValueAppearsInNoResponseAndNoLogLine() async throws {
        let secret = "Zq9-SECRET-\(UUID().uuidString.prefix(8))"
        let (dir, plugins) = try await directoryWithTinyPlugin("secrets")
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("host.log")
        let out = dir.appendingPathComponent("host.out")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        FileManager.default.createFile(atPath: out.path, contents: nil)
        let host = Process()
        host.executableURL = Build.synchost
        host.arguments = ["serve", "--plugins", plugins.path, "--data-dir", dir.path, "--port", "0", "--admin-token", "adm1n-token-value",
                          "--log-level", "trace", "--scheduler-max-idle", "1"]
        host.standardError = try FileHandle(forWritingTo: log)
        host.standardOutput = try FileHandle(forWritingTo: out)
        try host.run()
        defer { if host.isRunning { host.terminate() } }

        // Find the port in the banner.
        var port: Int?
        for _ in 0..<100 {
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            if let r = text.range(of: "http://127.0.0.1:") { port = Int(text[r.upperBound...].prefix { $0.isNumber }); break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let base = "http://127.0.0.1:\(try #require(port))/api/v1"
        var responses: [String] = []
        func call(_ method: String, _ path: String, _ body: String? = nil) async throws -> HTTPResult {
            let r = try await request(method, base + path, token: "adm1n-token-value", body: body)
            responses.append(r.body)
            return r
        }
        #expect(try await call("POST", "/instances", #"{"id": "s1", "plugin": "tiny_c", "config": {"password": "\#(secret)"}}"#).status == 201)
        _ = try await call("GET", "/instances")
        _ = try await call("GET", "/instances/s1")
        _ = try await call("PATCH", "/instances/s1", #"{"config": {"greeting": "hi there"}}"#)
        _ = try await call("PATCH", "/instances/s1", #"{"config": {"greeting": "hello", "password": "***"}}"#)
        // The greet job reads its config (password included) and echoes it into its result message.
        let accepted = try await call("POST", "/instances/s1/jobs/greet/run", "{}")
        let id = try #require(accepted.json?["run_id"]?.stringValue)
        var status = ""
        for _ in 0..<100 {
            status = try await call("GET", "/runs/\(id)").json?["status"]?.stringValue ?? ""
            if status == "succeeded" || status == "failed" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status == "succeeded")
        let run = try await call("GET", "/runs/\(id)")
        #expect(run.json?["message"]?.stringValue?.contains("\"password\":\"***\"") == true, "\(run.body)")
        _ = try await call("GET", "/runs?instance=s1")
        _ = try await call("GET", "/schedules?instance=s1")
        _ = try await call("GET", "/instances/s1/collections")
        host.terminate()
        await host.exited()

        let everything = responses.joined(separator: "\n") + (try String(contentsOf: log, encoding: .utf8)) + (try String(contentsOf: out, encoding: .utf8))
        for value in [secret, "adm1n-token-value"] {
            let leaks = everything.split(separator: "\n").filter { $0.contains(value) }.map { $0.replacingOccurrences(of: value, with: "<LEAK>") }
            #expect(leaks.isEmpty, "leaked in: \(leaks)")
        }
        #expect(everything.contains("greet job running"), "the debug log was captured")
        // The stored config kept the real secret (a "***" sent back does not overwrite it).
        let store = try await openSQLite(dir.appendingPathComponent("synchost.db").path)
        #expect(try await store.instance(id: "s1")?.config["password"]?.stringValue == secret)
    }
}
