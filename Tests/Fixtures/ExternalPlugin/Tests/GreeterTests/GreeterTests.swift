import PluginAPI
import PluginTesting
import Testing

@testable import Greeter

/// The plugin's own unit test, in milliseconds, against the kit's fake host.
@Test func greetFetchesTheConfiguredURL() async throws {
    let host = FakeHost(Greeter.self, config: ["url": "http://example.test/hello"])
    host.onFetch { fetch in HTTPResponse(status: 200, headers: [:], body: Array("hi \(fetch.head.url)".utf8)) }
    let result = try await host.run("greet")
    #expect(result.message == "greeter got HTTP 200 with 28 bytes")
    #expect(host.fetches.map(\.head.url) == ["http://example.test/hello"])
    #expect(host.logs.contains { $0.message == "greeter fetching http://example.test/hello" })
}
