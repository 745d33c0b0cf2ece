import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import VOSSimulator

/// The VOS simulator's answers rendered ahead (what the ingest benchmark serves from) are the answers it renders
/// on request, and faults still apply to them.
@Suite("VOS simulator")
struct VOSSimulatorTests {
    static func post(_ sim: VOSSimulator, _ op: String, _ body: String) async throws -> String {
        var req = HTTPClientRequest(url: "\(sim.server.baseURL)/external/server/\(op)")
        req.method = .POST
        req.headers.add(name: "content-type", value: "text/html;charset=UTF-8")
        req.body = .bytes(ByteBuffer(string: body))
        let r = try await HTTPClient.shared.execute(req, timeout: .seconds(30))
        #expect(r.status == .ok)
        return String(buffer: try await r.body.collect(upTo: 1 << 26))
    }

    @Test func aDayRenderedAheadIsTheDayRenderedOnRequest() async throws {
        var data = VOSSimulator.Data()
        data.cdrsPerDay = 2_000
        let fresh = VOSSimulator(data), ahead = VOSSimulator(data)
        try ahead.prerender(day: "20261120")
        try await fresh.start()
        try await ahead.start()
        defer { fresh.stop(); ahead.stop() }

        for account in fresh.accounts {
            let body = #"{"accounts": ["\#(account)"], "beginTime": "20261120", "endTime": "20261120"}"#
            let expected = try await Self.post(fresh, "GetCdr", body)
            #expect(expected.contains(#""retCode":0"#) && expected.contains("flowNo"))
            #expect(try await Self.post(ahead, "GetCdr", body) == expected, "\(account)")
        }
        // Two accounts, or another day: rendered on request, the same as ever.
        let two = #"{"accounts": ["\#(fresh.accounts[0])", "\#(fresh.accounts[1])"], "beginTime": "20261120", "endTime": "20261121"}"#
        #expect(try await Self.post(ahead, "GetCdr", two) == (try await Self.post(fresh, "GetCdr", two)))
        // Faults apply to a rendered answer as to any other.
        ahead.faults.emptyBody = true
        #expect(try await Self.post(ahead, "GetCdr", #"{"accounts": ["\#(fresh.accounts[0])"], "beginTime": "20261120", "endTime": "20261120"}"#) == "")
        ahead.faults = .init()
        ahead.faults.retCode = -10010
        #expect(try await Self.post(ahead, "GetCdr", #"{"accounts": ["\#(fresh.accounts[0])"], "beginTime": "20261120", "endTime": "20261120"}"#).contains("-10010"))
    }
}
