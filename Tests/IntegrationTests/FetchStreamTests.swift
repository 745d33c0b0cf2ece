import Foundation
import Logging
import PluginAPI
import Testing
import VOSSimulator

@testable import Host
@testable import TestKit

/// fetch.open/read/close (ABI 1.2): a body read in pieces over loopback from a real server, through the
/// kernel's fetch service as a plugin's calls reach it.
@Suite("Fetch streams")
struct FetchStreamTests {
    static func call(_ fetch: FetchService, _ op: String, _ json: String, _ context: SessionContext) async throws -> [UInt8] {
        try await fetch.handle(op: op, request: Array(json.utf8), session: context)
    }

    static func framed(_ url: String) -> [UInt8] {
        var w = FrameWriter()
        w.append(Array(#"{"method": "POST", "url": "\#(url)"}"#.utf8))
        w.append(Array(#"{"accounts": ["10001"], "beginTime": "20261120", "endTime": "20261120"}"#.utf8))
        return w.bytes
    }

    @Test func aBodyReadInPiecesIsTheWholeBodyAndTheStreamEndsOnceWithItsCall() async throws {
        var data = VOSSimulator.Data()
        data.customers = 2
        data.cdrsPerDay = 4_000
        let sim = VOSSimulator(data)
        try await sim.start()
        defer { sim.stop() }
        let url = "\(sim.server.baseURL)/external/server/GetCdr"
        let kernel = Kernel(pluginDirectory: try temporaryDirectory(), logger: Logger(label: "test"))
        let fetch = try #require(kernel.router.services[.fetch] as? FetchService)
        let sessions = kernel.router.sessions
        let id = sessions.open(SessionContext(plugin: "p"))
        let context = try #require(sessions.context(id))
        #expect(context.id == id)

        // The whole answer, for comparison.
        var whole = FrameReader(try await fetch.handle(op: "request", request: Self.framed(url), session: context))
        _ = try whole.next()
        let expected = Array(try whole.next())
        #expect(expected.count > 500_000)

        let head = try JSONValue.parse(try await fetch.handle(op: "open", request: Self.framed(url), session: context))
        #expect(head["status"] == 200 && head["attempts"] == 1)
        let stream = try #require(head["stream"]?.intValue)
        var body: [UInt8] = []
        var pieces = 0
        while true {
            let piece = try await Self.call(fetch, "read", #"{"stream": \#(stream), "max_bytes": 65536}"#, context)
            #expect(piece.count <= 65_536)
            if piece.isEmpty { break }
            body += piece
            pieces += 1
        }
        #expect(body == expected)
        #expect(pieces >= expected.count / 65_536)
        // The end is answered once; then the stream is gone.
        await #expect(throws: PluginError.self) { try await Self.call(fetch, "read", #"{"stream": \#(stream)}"#, context) }

        // Bad requests are refused clearly.
        for (json, words) in [(#"{"stream": 1, "max_bytes": 0}"#, "max_bytes must be"), (#"{"stream": 1, "max_bytes": 999999999}"#, "max_bytes must be"),
                              (#"{"max_bytes": 10}"#, "expected {\"stream\""), (#"{"stream": 424242}"#, "no open stream 424242")] {
            do {
                _ = try await Self.call(fetch, "read", json, context)
                Issue.record("\(json) was accepted")
            } catch let e as PluginError {
                #expect(e.message.contains(words), "\(json): \(e.message)")
            }
        }
        await #expect(throws: PluginError.self) { try await fetch.handle(op: "open", request: Self.framed(url), session: SessionContext(plugin: "p")) }

        // Closed explicitly, or with the call that opened it: nothing stays open.
        let a = try #require(try JSONValue.parse(try await fetch.handle(op: "open", request: Self.framed(url), session: context))["stream"]?.intValue)
        #expect(try await Self.call(fetch, "read", #"{"stream": \#(a), "max_bytes": 10}"#, context).count == 10)
        _ = try await Self.call(fetch, "close", #"{"stream": \#(a)}"#, context)
        await #expect(throws: PluginError.self) { try await Self.call(fetch, "read", #"{"stream": \#(a)}"#, context) }
        _ = try await fetch.handle(op: "open", request: Self.framed(url), session: context)
        _ = try await fetch.handle(op: "open", request: Self.framed(url), session: context)
        #expect(fetch.streams.openCount == 2)
        kernel.router.close(session: id)
        #expect(fetch.streams.openCount == 0)
    }
}
