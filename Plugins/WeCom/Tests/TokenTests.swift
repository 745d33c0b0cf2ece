import Foundation
import PluginAPI
import PluginTesting
import Testing

@testable import WeComPlugin

/// WeCom's access token against scripted gettoken answers (fake host): a refused secret fails at once, as a
/// configuration error naming the code, and the secret never appears in a log line.
@Suite("WeCom token (fake host)")
struct TokenTests {
    static let config: [String: JSONValue] = ["corp_id": "ww1", "corp_secret": "TOPSECRET-xyz", "base_url": "http://wecom.test"]

    @Test func aRefusedSecretFailsTheRunAsConfigurationWithTheCodesMeaning() async throws {
        let host = FakeHost(WeComConnector.self, config: Self.config)
        host.onFetch { _ in HTTPResponse(status: 200, headers: [:], body: Array(#"{"errcode":40001,"errmsg":"invalid credential"}"#.utf8)) }
        do {
            _ = try await host.run("contacts_incremental")
            Issue.record("the run succeeded")
        } catch let e as PluginError {
            #expect(e.kind == .config && e.message.contains("gettoken: errcode 40001 (invalid corp_secret)"), "\(e)")
        }
        #expect(host.fetches.count == 1, "a configuration error is not retried")
        #expect(host.fetches[0].head.url.hasPrefix("http://wecom.test/cgi-bin/gettoken?corpid=ww1"))
        #expect(!host.logs.contains { $0.message.contains("TOPSECRET-xyz") })
    }

    @Test func badThresholdsAndBatchSizesAreRefused() async throws {
        let host = FakeHost(WeComConnector.self, config: Self.config)
        await #expect(throws: PluginError.self) { try await host.validate(Self.config.merging(["batch_size": 500]) { $1 }) }
        await #expect(throws: PluginError.self) { try await host.validate(["corp_id": "ww1"]) }
        try await host.validate(Self.config)
    }
}
