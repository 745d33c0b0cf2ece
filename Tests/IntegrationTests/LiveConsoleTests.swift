import AsyncHTTPClient
import Foundation
import GuankeSimulator
import NIOCore
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// One server-sent event as a client reads it.
struct SSEEvent: Sendable {
    var id: String?
    var type: String
    var data: JSONValue
}

/// Reads `GET /api/v1/events` as a client does: the events in order, parsed from the stream's frames.
func eventStream(_ host: TestHost, lastEventID: String? = nil) async throws -> (status: Int, events: AsyncStream<SSEEvent>, task: Task<Void, Never>) {
    var req = HTTPClientRequest(url: host.base + "/events")
    req.headers.add(name: "authorization", value: "Bearer \(TestHost.token)")
    if let lastEventID { req.headers.add(name: "last-event-id", value: lastEventID) }
    let response = try await HTTPClient.shared.execute(req, timeout: .seconds(120))
    let (stream, continuation) = AsyncStream<SSEEvent>.makeStream()
    let task = Task {
        var buffer = ""
        do {
            for try await chunk in response.body {
                buffer += String(buffer: chunk)
                while let cut = buffer.range(of: "\n\n") {
                    let block = String(buffer[..<cut.lowerBound])
                    buffer = String(buffer[cut.upperBound...])
                    var event = SSEEvent(id: nil, type: "message", data: .null)
                    var data = ""
                    for line in block.split(separator: "\n") {
                        if line.hasPrefix("id: ") { event.id = String(line.dropFirst(4)) }
                        if line.hasPrefix("event: ") { event.type = String(line.dropFirst(7)) }
                        if line.hasPrefix("data: ") { data += line.dropFirst(6) }
                    }
                    if !data.isEmpty { event.data = (try? JSONValue.parse(Array(data.utf8))) ?? .string(data) }
                    if !data.isEmpty || event.id != nil { continuation.yield(event) }
                }
            }
        } catch {}
        continuation.finish()
    }
    return (Int(response.status.code), stream, task)
}

/// Collects events until `done` says so (the deadline only bounds a failing test).
func collect(_ events: AsyncStream<SSEEvent>, within limit: Duration = .seconds(60), until done: @escaping @Sendable ([SSEEvent]) -> Bool) async throws -> [SSEEvent] {
    try await withThrowingTaskGroup(of: [SSEEvent]?.self) { group in
        group.addTask {
            var seen: [SSEEvent] = []
            for await e in events {
                seen.append(e)
                if done(seen) { return seen }
            }
            return seen
        }
        group.addTask { try await Task.sleep(for: limit); return nil }
        let first = try await group.next()!
        group.cancelAll()
        guard let seen = first else { throw HostError.unavailable("the awaited events did not come within \(limit)") }
        return seen
    }
}

@Suite("Live console: events, progress, export, views")
struct LiveConsoleTests {
    @Test func theEventStreamFollowsARunThroughItsProgressBarsToItsEndAndResumesFromAnID() async throws {
        var data = GuankeSimulator.Data()
        data.recordsPerDay = { _ in 2_500 }
        let sim = GuankeSimulator(data)
        try await sim.start()
        defer { sim.stop() }
        let host = try await TestHost()
        let created = try await host.api("POST", "/instances", #"{"id": "g", "plugin": "guanke", "config": {"base_url": "\#(sim.server.baseURL)", "secret": "\#(sim.data.secret)", "page_size": 1000}}"#)
        #expect(created.status == 201, "\(created.body)")

        let live = try await eventStream(host)
        #expect(live.status == 200)
        let days = [GuankePluginTests.day(minus: 2), GuankePluginTests.day(minus: 1)]
        let accepted = try await host.api("POST", "/instances/g/jobs/grade_stats/run", #"{"params": {"dates": "\#(days[0])..\#(days[1])"}}"#)
        let runID = try #require(accepted.json?["run_id"]?.stringValue, "\(accepted.body)")
        let mine: @Sendable (SSEEvent) -> Bool = { $0.data["run"]?.stringValue == runID }
        let seen = try await collect(live.events) { $0.contains { $0.type == "run.finished" && mine($0) } }
        let ofRun = seen.filter(mine)
        #expect(ofRun.first?.type == "run.started")
        #expect(ofRun.last?.type == "run.finished" && ofRun.last?.data["status"] == "succeeded", "\(ofRun.last?.data ?? .null)")
        // One bar per day: 3 pages of 1000 each, reported page by page, ending full.
        let progress = ofRun.filter { $0.type == "run.progress" }
        for day in days {
            let bar = progress.filter { $0.data["bar"]?.stringValue == day }
            #expect(bar.map { $0.data["done"]?.intValue ?? -1 } == [1, 2, 3], "\(day): \(bar.map(\.data))")
            #expect(bar.allSatisfy { $0.data["total"] == 3 && ($0.data["label"]?.stringValue ?? "").hasPrefix(day) })
        }
        #expect(seen.contains { $0.type == "records.changed" && $0.data["collection"] == "grade_stats" && $0.data["instance"] == "g" && mine($0) })
        // Ids grow by one, so a client notices a gap.
        let ids = seen.compactMap { $0.id.flatMap { Int64($0) } }
        #expect(ids == Array(ids.first!..<(ids.first! + Int64(ids.count))))
        live.task.cancel()

        // Reconnecting with the id of the run's start replays what followed, in order, then goes on live.
        let startID = try #require(ofRun.first?.id)
        let resumed = try await eventStream(host, lastEventID: startID)
        let replay = try await collect(resumed.events) { $0.contains { $0.type == "run.finished" && mine($0) } }
        #expect(replay.first?.id.flatMap { Int64($0) } == Int64(startID)! + 1)
        #expect(replay.filter(mine).map(\.type) == ofRun.dropFirst().map(\.type))
        resumed.task.cancel()

        // An id from before this host started: one `reset` (reload), then live events.
        let old = try await eventStream(host, lastEventID: "1")
        let reset = try await collect(old.events) { !$0.isEmpty }
        #expect(reset.first?.type == "reset")
        old.task.cancel()
        let bad = try await host.api("GET", "/events?last_event_id=abc")
        #expect(bad.status == 400 && bad.body.contains("Last-Event-ID"))

        // The progress of a running run is in the run's answer while it runs, and gone once it ended.
        let ended = try await host.api("GET", "/runs/\(runID)")
        #expect(ended.json?["progress"] == nil)
        await host.stop()
    }

    @Test func aCollectionExportsEveryRecordAsCSVAndJSONPageByPage() async throws {
        let host = try await TestHost()
        try await host.store.createInstance(InstanceRecord(id: "g", plugin: "guanke", config: ["base_url": "http://127.0.0.1:9", "secret": "s"]), schedules: [])
        let n = 2_345
        var records: [(String, JSONValue)] = (0..<n).map { i in (String(format: "2026-%05d", i), ["date": .string("d\(i)"), "grade_9": .int(Int64(i))]) }
        records[7].1 = ["date": "a,\"quoted\"\nline", "grade_9": "=SUM(A1)"]
        _ = try await host.store.upsert(page("grade_stats", records), instance: "g", runID: nil, now: Date())

        let csv = try await host.api("GET", "/instances/g/export/grade_stats?format=csv&fields=@key,date,grade_9")
        #expect(csv.status == 200 && csv.headers["content-type"]?.hasPrefix("text/csv") == true)
        #expect(csv.headers["content-disposition"] == "attachment; filename=\"g-grade_stats.csv\"")
        #expect(Array(csv.bytes.prefix(3)) == [0xEF, 0xBB, 0xBF], "a BOM, for Excel and WPS")
        let lines = String(decoding: csv.bytes.dropFirst(3), as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.first == "@key,date,grade_9")
        #expect(lines.count == n + 1, "every record (one has a line break inside quotes) and the header")
        #expect(lines.contains("2026-00000,d0,0") && lines.contains("2026-02344,d2344,2344"))
        #expect(String(decoding: csv.bytes, as: UTF8.self).contains("2026-00007,\"a,\"\"quoted\"\"\nline\",'=SUM(A1)"), "quoted, and no formula")

        let json = try await host.api("GET", "/instances/g/export/grade_stats?format=json&desc=true")
        let all = try #require(json.json?.arrayValue)
        #expect(all.count == n)
        #expect(all.first?["key"] == "2026-02344" && all.first?["data"]?["grade_9"] == 2344 && all.first?["synced_at"]?.stringValue != nil)
        // Filters as a list has them.
        let one = try await host.api("GET", "/instances/g/export/grade_stats?format=json&date=d42")
        #expect(one.json?.arrayValue?.map { $0["key"] } == ["2026-00042"])

        #expect(try await host.api("GET", "/instances/g/export/nope?format=csv").status == 404)
        #expect(try await host.api("GET", "/instances/g/export/grade_stats?format=xml").status == 400)
        #expect(try await host.api("GET", "/instances/zz/export/grade_stats").status == 404)
        await host.stop()
    }

    @Test func everyConnectorDeclaresViewsTheHostChecksAndServes() async throws {
        let host = try await TestHost()
        let plugins = try #require(try await host.api("GET", "/plugins").json?.arrayValue)
        for name in ["guanke", "vos", "wecom", "projectsync"] {
            let p = try #require(plugins.first { $0["name"]?.stringValue == name })
            let views = p["views"]?.arrayValue ?? []
            #expect(!views.isEmpty, "\(name) declares its legacy page's views")
            for v in views {
                #expect(v["title"]?["zh-CN"]?.stringValue?.isEmpty == false && v["title"]?["en"]?.stringValue?.isEmpty == false)
            }
        }
        let guanke = try #require(plugins.first { $0["name"] == "guanke" })
        let chart = try #require(guanke["views"]?.arrayValue?.first { $0["id"] == "grade_trend" })
        #expect(chart["kind"] == "chart" && chart["collection"] == "grade_stats" && chart["chart"]?["series"]?.arrayValue?.count == 2)
        // The ABI version says what it holds.
        #expect(guanke["abi"] == "1.6")
        await host.stop()
    }
}
