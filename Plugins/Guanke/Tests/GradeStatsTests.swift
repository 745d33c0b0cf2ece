import Foundation
import PluginAPI
import PluginTesting
import Testing

@testable import GuankePlugin

/// `grade_stats` against scripted platform answers (fake host): paging to totalCount, the 9元/1元 rule, and the
/// token's life (logged in once, again when the platform rejects it).
@Suite("Guanke grade_stats (fake host)")
struct GradeStatsTests {
    static let config: [String: JSONValue] = ["base_url": "http://guanke.test", "secret": "s3", "page_size": 2]

    static func envelope(_ code: Int, _ data: JSONValue) -> HTTPResponse {
        HTTPResponse(status: 200, headers: [:], body: JSONValue.object(["code": .int(Int64(code)), "message": "ok", "data": data]).jsonBytes)
    }

    @Test func everyPageIsCountedByTheLegacyGradeRuleAndTheTokenIsReused() async throws {
        let host = FakeHost(GuankeConnector.self, config: Self.config)
        let grades = ["9元意向", "9", "1元", "A", "1"]
        host.onFetch { fetch in
            let url = fetch.head.url
            if url.contains("/token/secret?") { return Self.envelope(200, ["token": "tok-1"]) }
            #expect(fetch.head.headers["authorization"] == "tok-1")
            let page = Int(url.components(separatedBy: "page=")[1].prefix { $0.isNumber }) ?? 0
            let rows = grades.dropFirst((page - 1) * 2).prefix(2).map { JSONValue.object(["grade": .string($0), "duration": 5, "isCall": 1]) }
            return Self.envelope(200, ["totalCount": 5, "data": .array(Array(rows))])
        }
        let result = try await host.run("grade_stats", params: ["dates": "2026-11-20"])
        #expect(result.complete, "\(result)")
        let day = try #require(host.records("grade_stats")["2026-11-20"])
        #expect(day["grade_9"] == 2 && day["grade_1"] == 2 && day["total_records"] == 5 && day["complete"] == true, "\(day)")
        #expect(host.fetches.filter { $0.head.url.contains("/token") }.count == 1)
        #expect(host.fetches.filter { $0.head.url.contains("/task/cdr/all2") }.count == 3)
    }

    @Test func aRefusedSecretIsAConfigErrorWithThePlatformsWords() async throws {
        let host = FakeHost(GuankeConnector.self, config: Self.config)
        host.onFetch { _ in Self.envelope(1_000_003, .null) }
        do {
            _ = try await host.run("grade_stats", params: ["dates": "2026-11-20"])
            Issue.record("the run succeeded")
        } catch let e as PluginError {
            #expect(e.kind == .config && e.message.contains("token: code 1000003"), "\(e)")
        }
        await #expect(throws: PluginError.self) { try await host.validate(["base_url": "http://g", "page_size": 2000, "secret": "x"]) }
        await #expect(throws: PluginError.self) { try await host.validate(["base_url": "http://g"]) }
    }
}
