import Foundation
import PluginAPI

@testable import Host

/// A `synchost serve` process as an operator runs it. Its log (stderr) goes to `log` when given.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    var base = ""
    var token = ""

    init(dataDir: URL, token: String, plugins: URL = Build.products, arguments: [String] = [], environment: [String: String] = [:],
         log: URL? = nil) async throws {
        self.token = token
        process.executableURL = Build.synchost
        process.arguments = ["serve", "--port", "0", "--data-dir", dataDir.path, "--plugins", plugins.path, "--admin-token", token,
                             "--scheduler-max-idle", "1", "--log-level", "warning"] + arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe()
        process.standardOutput = out
        if let log {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        let banner: String = await withCheckedContinuation { c in
            Thread.detachNewThread {
                var text = ""
                while !text.contains("listening on") || !text.contains("\n") {
                    let chunk = out.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                }
                c.resume(returning: text)
            }
        }
        guard let m = banner.firstMatch(of: /listening on (https?:\/\/[0-9.]+:\d+)/) else { throw HostError.unavailable("serve did not start: \(banner)") }
        base = String(m.1) + "/api/v1"
    }

    func api(_ method: String, _ path: String, _ body: String? = nil) async throws -> HTTPResult {
        try await request(method, base + path, token: token, body: body)
    }

    /// Runs `job` of `instance` now and waits for it to end; the run's JSON.
    func run(_ instance: String, _ job: String, params: String = "{}") async throws -> [String: JSONValue] {
        let accepted = try await api("POST", "/instances/\(instance)/jobs/\(job)/run", params)
        guard let id = accepted.json?["run_id"]?.stringValue else { throw HostError.unavailable("run not accepted: \(accepted.status) \(accepted.body)") }
        for _ in 0..<300 {
            let run = try await api("GET", "/runs/\(id)").json?.objectValue ?? [:]
            if let status = run["status"]?.stringValue, ["succeeded", "incomplete", "failed", "cancelled", "interrupted", "crashed", "skipped"].contains(status) { return run }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HostError.unavailable("run \(id) did not end in 30 s")
    }

    func kill9() async {
        kill(process.processIdentifier, SIGKILL)
        await process.exited()
    }

    func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        await process.exited()
    }
}
