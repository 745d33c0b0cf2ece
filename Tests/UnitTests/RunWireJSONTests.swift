import Foundation
import PluginAPI
import Testing

/// The run operation's JSON, built by hand, reads and writes the same bytes as its Codable form: a plugin
/// built with either understands a host built with either.
@Suite("Run request and result JSON")
struct RunWireJSONTests {
    static let request = RunRequest(
        runID: "r-1", job: "cdrs", instance: InstanceInfo(id: "n1", plugin: "vos", config: ["base_url": "http://x", "page": 500, "on": true]),
        params: ["dates": "T-1", "deep": ["a": [1, 2.5, "x", .null]]], dryRun: true, trigger: "schedule",
        scheduledFor: Date(timeIntervalSinceReferenceDate: 786_000_123.25))
    static let result = RunResult(complete: false, counts: RunCounts(fetched: 7, pages: 2, inserted: 3, updated: 1, unchanged: 3, deleted: 4),
                                  message: "partial: 说明", details: ["days": ["2026-12-01": 5]], fullSync: ["customers", "phones"])

    @Test func handBuiltAndCodableFormsReadEachOther() throws {
        let byHand = Self.request.json.jsonBytes
        let viaCodable = try WireJSON.decode(RunRequest.self, from: byHand)
        #expect(viaCodable.runID == "r-1" && viaCodable.job == "cdrs" && viaCodable.instance == Self.request.instance)
        #expect(viaCodable.params == Self.request.params && viaCodable.dryRun && viaCodable.trigger == "schedule")
        #expect(viaCodable.scheduledFor == Self.request.scheduledFor)
        let back = try RunRequest(json: try JSONValue.parse(try WireJSON.encode(Self.request)))
        #expect(back.runID == "r-1" && back.instance == Self.request.instance && back.params == Self.request.params)
        #expect(back.scheduledFor == Self.request.scheduledFor && back.dryRun && back.trigger == "schedule")
        var unscheduled = Self.request
        unscheduled.scheduledFor = nil
        #expect(try RunRequest(json: unscheduled.json).scheduledFor == nil)

        #expect(try WireJSON.decode(RunResult.self, from: Self.result.json.jsonBytes) == Self.result)
        #expect(try RunResult(json: try JSONValue.parse(try WireJSON.encode(Self.result))) == Self.result)
        // What a C plugin may send: only some fields.
        #expect(try RunResult(json: try JSONValue.parse(Array(#"{"counts": {"fetched": 2}}"#.utf8))) == RunResult(counts: RunCounts(fetched: 2)))
    }

    @Test func malformedRequestsAndResultsAreRefusedWithAReason() {
        #expect(throws: PluginError.self) { try RunRequest(json: ["job": "x"]) }
        #expect(throws: PluginError.self) { try RunResult(json: .array([])) }
    }
}
