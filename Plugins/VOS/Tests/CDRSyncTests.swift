import Foundation
import PluginAPI
import PluginTesting
import Testing

@testable import VOSPlugin

/// The `cdrs` job against scripted node answers, in the fake host (no simulator, no network): the answer is
/// read in small pieces, so every CDR crosses piece boundaries somewhere.
@Suite("VOS cdrs job (fake host)")
struct CDRSyncTests {
    static let config: [String: JSONValue] = ["base_url": "http://node.test", "cdr_pacing_ms": 0]

    static func cdr(_ flow: Int?, _ account: String) -> JSONValue {
        var o: [String: JSONValue] = ["account": .string(account), "callerE164": "2025911627", "holdTime": 292, "fee": 0.25, "note": "含\"引号\"与中文"]
        if let flow { o["flowNo"] = .int(Int64(flow)) }
        return .object(o)
    }

    /// A node whose accounts a1 and a2 have CDRs; `answers` overrides an account's GetCdr body.
    static func node(_ host: FakeHost, answers: [String: String] = [:]) {
        host.onFetch { fetch in
            if fetch.head.url.hasSuffix("/GetAllCustomers") {
                return HTTPResponse(status: 200, headers: [:], body: Array(#"{"retCode":0,"accounts":["a1","a2"]}"#.utf8))
            }
            let account = try JSONValue.parse(fetch.body)["accounts"]?.arrayValue?.first?.stringValue ?? ""
            if let body = answers[account] { return HTTPResponse(status: 200, headers: [:], body: Array(body.utf8)) }
            let cdrs: [JSONValue] = account == "a1" ? [cdr(101, "a1"), cdr(102, "a1"), cdr(nil, "a1")] : [cdr(201, "a2")]
            return HTTPResponse(status: 200, headers: [:], body: JSONValue.object(["retCode": 0, "infoCdrs": .array(cdrs)]).jsonBytes)
        }
    }

    @Test func aDayIsReadInPiecesAndStoredOncePerCDRWithItsDate() async throws {
        let host = FakeHost(VOSConnector.self, config: Self.config, streamPieceBytes: 7)
        Self.node(host)
        let result = try await host.run("cdrs", params: ["date": "2026-11-20"])
        #expect(result.complete && result.counts.fetched == 4 && result.counts.pages == 2, "\(result)")
        let cdrs = host.records("cdrs")
        #expect(Set(cdrs.keys).isSuperset(of: ["101", "102", "201"]) && cdrs.count == 4)
        #expect(cdrs.values.allSatisfy { $0["date"] == "2026-11-20" })
        #expect(cdrs["101"]?["note"] == "含\"引号\"与中文")
        #expect(host.pluginState("cdr_day/2026-11-20")?["complete"] == true)
        #expect(host.fetches.filter { $0.head.url.hasSuffix("/GetCdr") }.map { try! JSONValue.parse($0.body)["beginTime"] } == ["20261120", "20261120"])
        #expect(host.openStreams == 0)

        // The same day again changes nothing.
        let again = try await host.run("cdrs", params: ["date": "2026-11-20"])
        #expect(again.counts.inserted == 0 && again.counts.unchanged == 4)
    }

    @Test func oneAccountsBadAnswerLeavesTheDayIncompleteWithTheNodesReason() async throws {
        let host = FakeHost(VOSConnector.self, config: Self.config, streamPieceBytes: 5)
        Self.node(host, answers: ["a2": #"{"retCode":-10003,"exception":"账户不存在"}"#])
        let result = try await host.run("cdrs", params: ["date": "2026-11-20"])
        #expect(!result.complete && result.message?.contains("a2: GetCdr: retCode -10003: 账户不存在") == true, "\(result)")
        #expect(host.records("cdrs").count == 3)
        #expect(host.pluginState("cdr_day/2026-11-20")?["failed_accounts"] == ["a2"])

        Self.node(host, answers: ["a1": "<html>502 Bad Gateway</html>", "a2": "   "])
        await #expect(throws: PluginError.self) { try await host.run("cdrs", params: ["date": "2026-11-21"]) }
        let notJSON = try? await host.run("cdrs", params: ["date": "2026-11-21"])
        #expect(notJSON == nil)
        do {
            _ = try await host.run("cdrs", params: ["date": "2026-11-21"])
        } catch let e as PluginError {
            #expect(e.message.contains("a1: GetCdr: the response is not JSON") && e.message.contains("<html>502"), "\(e.message)")
            #expect(e.message.contains("a2: GetCdr: the node returned an empty body"), "\(e.message)")
        }
    }

    @Test func aDryRunCountsWithoutWriting() async throws {
        let host = FakeHost(VOSConnector.self, config: Self.config)
        Self.node(host)
        let result = try await host.run("cdrs", params: ["date": "2026-11-20"], dryRun: true)
        #expect(result.counts.inserted == 4)
        #expect(host.records("cdrs").isEmpty && host.pluginState("cdr_day/2026-11-20") == nil)
    }

    @Test func aBadConfigIsRefusedWithWhatIsWrong() async throws {
        let host = FakeHost(VOSConnector.self, config: Self.config)
        for (config, words) in [(["base_url": "ftp://x"] as [String: JSONValue], "is not an http(s) URL"), (["base_url": "http://n", "timezone": "Mars/Base"], "unknown time zone"),
                                (["base_url": "http://n", "backfill_days": 400], "backfill_days must be 0-366")] {
            await #expect(throws: PluginError.self, "\(config)") {
                do { try await host.validate(config) } catch let e as PluginError {
                    #expect(e.message.contains(words), "\(e.message)")
                    throw e
                }
            }
        }
    }
}

/// `cdr-stats` counts a call on the day it started in the node's zone, whatever day it was synced for.
@Suite("VOS call dates (fake host)")
struct CallDateTests {
    @Test func civilDatesAreRightAcrossErasAndLeapYears() {
        var shanghai = CallDate(zone: TimeZone(identifier: "Asia/Shanghai")!)
        #expect(String(decoding: CallDate.civil(0), as: UTF8.self) == "1970-01-01")
        #expect(String(decoding: CallDate.civil(-1), as: UTF8.self) == "1969-12-31")
        #expect(String(decoding: CallDate.civil(11_016), as: UTF8.self) == "2000-02-29")
        #expect(String(decoding: CallDate.civil(20_412), as: UTF8.self) == "2025-11-20")
        // 2026-11-19 23:50 in Shanghai is 15:50 UTC; ten minutes later it is the 20th there.
        let late = Int64(ISO8601DateFormatter().date(from: "2026-11-19T15:50:00Z")!.timeIntervalSince1970 * 1000)
        #expect(String(decoding: shanghai.day(ms: late), as: UTF8.self) == "2026-11-19")
        #expect(String(decoding: shanghai.day(ms: late + 10 * 60_000), as: UTF8.self) == "2026-11-20")
        var newYork = CallDate(zone: TimeZone(identifier: "America/New_York")!)
        #expect(String(decoding: newYork.day(ms: late), as: UTF8.self) == "2026-11-19")
        #expect(String(decoding: newYork.day(ms: late + 14 * 3_600_000), as: UTF8.self) == "2026-11-20")
    }

    @Test func cdrStatsGroupsByTheCallsOwnDay() async throws {
        let host = FakeHost(VOSConnector.self, config: CDRSyncTests.config)
        let beforeMidnight = Int64(ISO8601DateFormatter().date(from: "2026-11-19T15:50:00Z")!.timeIntervalSince1970 * 1000)
        host.onFetch { fetch in
            if fetch.head.url.hasSuffix("/GetAllCustomers") {
                return HTTPResponse(status: 200, headers: [:], body: Array(#"{"retCode":0,"accounts":["a1"]}"#.utf8))
            }
            // The node's answer for the 20th holds a call that started before midnight.
            let cdrs: JSONValue = ["retCode": 0, "infoCdrs": [["flowNo": 1, "start": .int(beforeMidnight), "fee": 0.5, "holdTime": 60],
                                                                ["flowNo": 2, "start": .int(beforeMidnight + 3_600_000), "fee": 0.25, "holdTime": 30]]]
            return HTTPResponse(status: 200, headers: [:], body: cdrs.jsonBytes)
        }
        _ = try await host.run("cdrs", params: ["date": "2026-11-20"])
        #expect(host.records("cdrs")["1"]?["call_date"] == "2026-11-19" && host.records("cdrs")["1"]?["date"] == "2026-11-20")
        let stats = try JSONValue.parse(Array(try await host.route("instances/{id}/cdr-stats", query: ["from": "2026-11-19", "to": "2026-11-20"]).body.utf8))
        let days = stats["days"]?.arrayValue ?? []
        #expect(days.map { $0["cdrs"] } == [1, 1] && days.map { $0["fee"] } == [0.5, 0.25], "\(stats)")
    }
}
