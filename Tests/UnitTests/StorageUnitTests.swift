import Foundation
import PluginAPI
import Testing

@testable import Host

@Suite("Storage: what needs no database")
struct StorageUnitTests {
    @Test func aDatabaseIsNamedInOneOfThreeFormsAndAnythingElseIsRefusedWithThem() throws {
        #expect(try DatabaseLocation(parsing: "postgres://u:p@127.0.0.1:5432/db") == .postgres(url: "postgres://u:p@127.0.0.1:5432/db"))
        #expect(try DatabaseLocation(parsing: "postgresql://h/db") == .postgres(url: "postgresql://h/db"))
        #expect(try DatabaseLocation(parsing: "sqlite:/var/lib/synchost/x.db") == .sqlite(path: "/var/lib/synchost/x.db"))
        #expect(try DatabaseLocation(parsing: "data/synchost.db") == .sqlite(path: "data/synchost.db"))
        #expect(try DatabaseLocation(parsing: "/tmp/a b/c.db") == .sqlite(path: "/tmp/a b/c.db"))
        // What `make test` once took for a URL: a line of pg_ctlcluster's output and the URL after it.
        for bad in ["Removed stale pid file.\npostgres://synchost:synchost@127.0.0.1:54329/synchost_test", "", "sqlite:", "  ",
                    "mysql://h/db", "http://h/x.db", "db\u{7}.db", "x\ty.db"] {
            #expect {
                try DatabaseLocation(parsing: bad)
            } throws: { error in
                guard let e = error as? HostError, case .invalid(let message) = e else { return false }
                return message.contains("postgres://") && message.contains("sqlite:PATH")
            }
        }
    }

    @Test func placeholdersAreNumberedOutsideQuotesForPostgreSQL() {
        #expect(Placeholders.numbered("SELECT ? , '?', \"a?\" FROM t WHERE x = ? AND y IN (?, ?)") == "SELECT $1 , '?', \"a?\" FROM t WHERE x = $2 AND y IN ($3, $4)")
        #expect(Placeholders.numbered("no placeholders") == "no placeholders")
    }

    @Test func everyMigrationHasItsOwnVersionInOrder() {
        let versions = StoreSchema.migrations.map(\.version)
        #expect(versions == Array(1...Int64(versions.count)))
        #expect(Set(StoreSchema.migrations.map(\.name)).count == versions.count)
    }

    @Test func malformedUpsertPayloadsAreRefusedWithTheProblemNamed() async throws {
        var w = FrameWriter()
        w.append(try WireJSON.encode(StoreService.UpsertHeader(collection: "c")))
        w.append("k")
        #expect(throws: PluginError(.invalid, "store.upsert: record 0 has a key but no data")) { try UpsertPage.parse(w.bytes) }
        w.append("not json")
        #expect(throws: PluginError(.invalid, "store.upsert: record \"k\" data is not JSON")) { try UpsertPage.parse(w.bytes) }
        #expect(throws: PluginError.self) { try UpsertPage.parse(Array("{".utf8)) }
    }

    @Test func utf8IsCheckedExactlyAsTheStandardLibraryDoes() {
        // The edges of each rule, then random bytes biased towards the multi-byte lead and continuation bytes.
        let edges: [[UInt8]] = [
            [], Array("plain ASCII, longer than eight bytes".utf8), Array("客户网关 and ✓ and 😀".utf8),
            [0xC0, 0x80], [0xC1, 0xBF], [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0x9F, 0x80], [0xE0, 0xA0, 0x80],
            [0xED, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBF], [0xF0, 0x8F, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80],
            [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0x80], [0xE4, 0xB8],
            Array("12345678".utf8) + [0xE4, 0xB8], Array("1234567".utf8) + [0xE4, 0xB8, 0xAD] + Array("12345678".utf8),
        ]
        for bytes in edges {
            #expect(UTF8Validation.isValid(bytes) == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
        }
        var rng = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE4, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xA0, 0x90, 0x8F, 0x9F]
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...24, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            #expect(UTF8Validation.isValid(bytes) == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
        }
    }
}
