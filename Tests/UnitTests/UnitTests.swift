import Foundation
import PluginAPI
import Testing

@testable import Host

@Suite("Secret masking")
struct SecretMaskerTests {
    @Test func knownSecretsAndCredentialParametersAreMasked() {
        let line = "GET https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=S3CR3T&x=1 with key=abc"
        let masked = SecretMasker.redact(line, secrets: ["S3CR3T"])
        #expect(!masked.contains("S3CR3T"))
        #expect(masked.contains("corpid=ww1"))
        #expect(masked.contains("corpsecret=***&x=1"))
        #expect(SecretMasker.redact("url ?access_token=tok123&debug=1") == "url ?access_token=***&debug=1")
        #expect(SecretMasker.redact("https://qyapi/webhook/send?key=693a91f6-7xxx") == "https://qyapi/webhook/send?key=***")
        #expect(SecretMasker.redact("postgres://user:pa55@db:5432/x") == "postgres://user:***@db:5432/x")
        #expect(SecretMasker.redact("plain text, nothing secret") == "plain text, nothing secret")
    }
}

@Suite("Config schema")
struct ConfigSchemaTests {
    let keys = [
        ConfigKey("base_url", .string, required: true, description: "url"),
        ConfigKey("page_size", .integer, default: 1000, description: ""),
        ConfigKey("password", .string, secret: true, description: ""),
        ConfigKey("accounts", .stringList, description: ""),
    ]

    @Test func unknownWrongTypeAndMissingKeysAreNamed() async throws {
        #expect(throws: HostError.invalid("config: unknown key \"pagesize\" (known: base_url, page_size, password, accounts)")) {
            try ConfigSchema.validated(["base_url": "x", "pagesize": 3], against: keys)
        }
        #expect(throws: HostError.invalid("config: \"page_size\" must be integer, got string")) {
            try ConfigSchema.validated(["base_url": "x", "page_size": "3"], against: keys)
        }
        #expect(throws: HostError.invalid("config: \"base_url\" is required (url)")) {
            try ConfigSchema.validated([:], against: keys)
        }
        #expect(throws: HostError.self) { try ConfigSchema.validated(["base_url": "x", "accounts": [1]], against: keys) }
        let ok = try ConfigSchema.validated(["base_url": "x", "password": "pw", "accounts": ["a"]], against: keys)
        #expect(ok["page_size"] == 1000)
        #expect(ConfigSchema.redacted(ok, keys: keys)["password"] == "***")
        #expect(ConfigSchema.secretValues(ok, keys: keys) == ["pw"])
    }
}

@Suite("Binary framing")
struct FramingTests {
    @Test func framesRoundTripAndTruncationIsAnError() async throws {
        var w = FrameWriter()
        w.append(Array("head".utf8))
        w.append([UInt8]())
        w.append(Array(repeating: 7, count: 70_000))
        var r = FrameReader(w.bytes)
        #expect(Array(try r.next()) == Array("head".utf8))
        #expect(try r.next().isEmpty)
        #expect(try r.next().count == 70_000)
        #expect(r.isAtEnd)
        var bad = FrameReader(Array(w.bytes.prefix(20)))
        _ = try bad.next()
        _ = try bad.next()
        #expect(throws: PluginError.self) { try bad.next() }
    }

    @Test func theLastFrameIsTakenOutInPlaceAndMustBeLast() throws {
        var w = FrameWriter()
        w.append(Array("head".utf8))
        w.append(Array(0..<200).map { UInt8($0) })
        var bytes = w.bytes
        #expect(try FrameReader.lastFrame(of: &bytes, from: 8) == Array(0..<200).map { UInt8($0) })
        var extra = w.bytes + [1]
        #expect(throws: PluginError.self) { try FrameReader.lastFrame(of: &extra, from: 8) }
    }
}

@Suite("Admin token")
struct AdminTokenTests {
    @Test func generatedOnceThenReused() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try AdminToken.resolve(explicit: nil, dataDirectory: dir)
        #expect(first.generated)
        #expect(first.token.count == 64)
        let second = try AdminToken.resolve(explicit: nil, dataDirectory: dir)
        #expect(!second.generated)
        #expect(second.token == first.token)
        #expect(try AdminToken.resolve(explicit: "given", dataDirectory: dir).token == "given")
        #expect(AdminToken.matches("abc".utf8, Array("abc".utf8)))
        #expect(!AdminToken.matches("abd".utf8, Array("abc".utf8)))
        #expect(!AdminToken.matches("ab".utf8, Array("abc".utf8)))
        #expect(!AdminToken.matches("abcd".utf8, Array("abc".utf8)))
    }
}

@Suite("JSON parser")
struct JSONParserTests {
    @Test func parsesEveryJSONValueAndRefusesMalformedInput() throws {
        let v = try JSONValue.parse(Array(#" {"a": [1, -2.5e3, "x\"\u00e9\ud83d\ude00", true, false, null], "b": {}} "#.utf8))
        #expect(v == ["a": [1, -2500.0, "x\"é😀", true, false, nil], "b": [:]])
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "tru", "1 2", "\"open"] {
            #expect(throws: PluginError.self, "\(bad)") { try JSONValue.parse(Array(bad.utf8)) }
        }
    }

    @Test func streamingHandsOverArrayElementsOneByOneAndKeepsTheRest() throws {
        var seen: [JSONValue] = []
        let rest = try JSONValue.parseStreaming(Array(#"[{"retCode": 0, "infoCdrs": [{"flowNo": 1}, {"flowNo": 2}], "x": "y"}]"#.utf8), arrayKey: "infoCdrs") { seen.append($0) }
        #expect(seen == [["flowNo": 1], ["flowNo": 2]])
        #expect(rest == ["retCode": 0, "x": "y"])
        var none = 0
        #expect(try JSONValue.parseStreaming(Array(#"{"retCode": -10007, "exception": "Not found"}"#.utf8), arrayKey: "infoCdrs") { _ in none += 1 }
                == ["retCode": -10007, "exception": "Not found"])
        #expect(try JSONValue.parseStreaming(Array(#"{"infoCdrs": []}"#.utf8), arrayKey: "infoCdrs") { _ in none += 1 } == [:])
        #expect(none == 0)
        #expect(throws: PluginError.self) { try JSONValue.parseStreaming(Array(#"[{"a":1},{"b":2}]"#.utf8), arrayKey: "x") { _ in } }
    }
}
