import Foundation
import GuankeSimulator
import PluginAPI
import ProjectServiceSimulator
import Testing
import VOSSimulator
import WeComSimulator

@testable import Host
@testable import TestKit

/// Fuzzes the admin API from its own OpenAPI document with schemathesis (PyPI, installed by setup.sh):
/// no 5xx, and every status code, content type and body as the document says. The host has an instance of
/// every plugin, each pointed at its simulator, so plugin routes answer for real.
@Suite("OpenAPI document and schemathesis", .serialized, .needs(.python))
struct APIFuzzTests {
    @Test func theDocumentDescribesTheAPIAndSchemathesisFindsNoServerErrorOrMismatch() async throws {
        let vos = VOSSimulator()
        try await vos.start()
        let guanke = GuankeSimulator()
        try await guanke.start()
        let wecom = WeComSimulator()
        try await wecom.start()
        wecom.addRobot(key: "k")
        let remote = ProjectServiceSimulator(projects: 5)
        try await remote.start()
        defer { vos.stop(); guanke.stop(); wecom.stop(); remote.stop() }
        let host = try await TestHost()
        for body in [
            #"{"id": "vos1", "plugin": "vos", "config": {"base_url": "\#(vos.server.baseURL)", "backfill_days": 0, "cdr_pacing_ms": 0}}"#,
            #"{"id": "g", "plugin": "guanke", "config": {"base_url": "\#(guanke.server.baseURL)", "secret": "\#(guanke.data.secret)"}}"#,
            #"{"id": "corp", "plugin": "wecom", "config": {"corp_id": "\#(wecom.data.corpID)", "corp_secret": "\#(wecom.data.corpSecret)", "base_url": "\#(wecom.server.baseURL)"}}"#,
            #"{"id": "ps", "plugin": "projectsync", "config": {"base_url": "\#(remote.server.baseURL)", "api_token": "\#(remote.apiToken)"}}"#,
            #"{"id": "robot", "plugin": "notify", "config": {"channel": "wecom_robot", "webhook_key": "k", "base_url": "\#(wecom.server.baseURL)", "max_per_minute": 6000}}"#,
        ] { #expect(try await host.api("POST", "/instances", body).status == 201) }
        // Each may wait behind its instance's initial sync (overlap: forbid) on a loaded machine.
        _ = try await host.run("ps", "sync", timeout: .seconds(240))
        _ = try await host.run("corp", "contacts_incremental", timeout: .seconds(240))

        let doc = try await request("GET", host.base.replacingOccurrences(of: "/api/v1", with: "") + "/openapi.json", token: TestHost.token)
        #expect(doc.status == 200 && doc.json?["openapi"] == "3.1.0")
        #expect(doc.json?["paths"]?["/api/v1/plugins/guanke/instances/{id}/grade-stats"]?["get"] != nil)
        #expect(doc.json?["paths"]?["/api/v1/plugins/projectsync/projects/{project}"]?["get"]?["security"] == [])
        #expect(try await request("GET", host.base.replacingOccurrences(of: "/api/v1", with: "") + "/openapi.json").status == 401)
        let file = host.directory.appendingPathComponent("openapi.json")
        try doc.body.write(to: file, atomically: true, encoding: .utf8)

        let schemathesis = Build.packageRoot.appendingPathComponent(".venv-test/bin/schemathesis").path
        let r = try await runProcess(schemathesis, [
            "run", file.path, "--url", host.base.replacingOccurrences(of: "/api/v1", with: ""), "-H", "Authorization: Bearer \(TestHost.token)",
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples", "6", "--max-time", "100", "--request-timeout", "30", "--seed", "20261123", "--workers", "1",
            "--suppress-health-check", "all", "--exclude-path", "/api/v1/plugins/rescan",
            "--exclude-path", "/api/v1/events",  // a stream that never ends (LiveConsoleTests reads it)
        ], environment: ["PATH": "/usr/bin:/bin", "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1", "HOME": host.directory.path])
        #expect(r.status == 0, "schemathesis:\n\(r.stdout.suffix(6000))\n\(r.stderr.suffix(2000))")
        // The summary (operations, cases, checks) in the test log.
        print(r.stdout.split(separator: "\n").suffix(25).joined(separator: "\n"))
        await host.stop()
    }
}
