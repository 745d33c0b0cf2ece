import Foundation
import PluginAPI
import PluginTesting
import Testing

@testable import ProjectSyncPlugin

/// ProjectSync's configuration and the remote service's refusals (fake host).
@Suite("ProjectSync remote service (fake host)")
struct RemoteProjectsTests {
    static let config: [String: JSONValue] = ["base_url": "http://projects.test", "api_token": "tok"]

    @Test func aRefusedTokenFailsTheSyncAsConfiguration() async throws {
        let host = FakeHost(ProjectSyncConnector.self, config: Self.config)
        host.onFetch { _ in HTTPResponse(status: 401, headers: [:], body: Array(#"{"detail":"bad token"}"#.utf8)) }
        let job = try #require(ProjectSyncConnector.manifest.jobs.first { !$0.name.hasPrefix("cleanup") }).name
        do {
            _ = try await host.run(job)
            Issue.record("the run succeeded")
        } catch let e as PluginError {
            #expect(e.kind == .config && e.message.contains("the api_token is refused"), "\(e)")
        }
        #expect(host.sent.isEmpty && host.records("projects").isEmpty)
    }

    @Test func aBadConfigurationIsRefusedWithWhatIsWrong() async throws {
        let host = FakeHost(ProjectSyncConnector.self, config: Self.config)
        for (extra, words) in [(["notify_on": ["colour"]] as [String: JSONValue], "notify_on: \"colour\""), (["cache_ttl_hours": 0], "cache_ttl_hours must be at least 1"),
                               (["timezone": "Nowhere/City"], "unknown time zone"), (["base_url": "file:///etc"], "is not an http(s) URL")] {
            do {
                try await host.validate(Self.config.merging(extra) { $1 })
                Issue.record("\(extra) was accepted")
            } catch let e as PluginError {
                #expect(e.message.contains(words), "\(e.message)")
            }
        }
    }
}
