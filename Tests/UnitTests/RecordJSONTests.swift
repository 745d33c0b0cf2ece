import Foundation
import PluginAPI
import Testing

@testable import Host

@Suite("Record responses assembled as bytes")
struct RecordJSONTests {
    @Test func timesAreWrittenInUTCWithTheirExactMilliseconds() {
        var rng = SystemRandomNumberGenerator()
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let fixed: [Int64] = [0, 1, 999, 1000, -1, -1000, -86_400_000, 951_782_400_000, 4_102_444_799_999, 1_764_745_200_123, 253_402_300_799_999]
        for ms in fixed + (0..<2000).map({ _ in Int64.random(in: -2_208_988_800_000...4_102_444_800_000, using: &rng) }) {
            var out: [UInt8] = []
            ISOTime.write(millis: ms, to: &out)
            let whole = ms - ((ms % 1000) + 1000) % 1000
            let c = utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: Double(whole / 1000)))
            let expected = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, Int(ms - whole))
            #expect(String(decoding: out, as: UTF8.self) == expected, "\(ms)")
            #expect(ISOTime.string(Date(millis: ms)) == expected)
        }
    }

    @Test func aRecordGoesOutWithItsStoredBytesAndTheSameFieldsAsTheEncoder() throws {
        let data = Array(#"{ "z" : 1,"name":"\u00e9\"x",  "list":[1, 2.50] }"#.utf8)
        for deleted in [nil, Date(millis: 1_764_745_300_000)] as [Date?] {
            for synced in [nil, Date(millis: 1_764_745_200_456)] as [Date?] {
                let r = StoredRecord(collection: "c", key: "k\"1/é", data: data, hash: ContentHash.of(data), firstSeenAt: Date(millis: 1_700_000_000_001),
                                     syncedAt: Date(millis: 1_764_745_200_000), changedAt: Date(millis: 1_764_745_100_000), deletedAt: deleted)
                let bytes = RecordJSON.one(r, lastSyncedAt: synced, source: "cache", stale: false)
                // The stored bytes appear verbatim.
                #expect(String(decoding: bytes, as: UTF8.self).contains(String(decoding: data, as: UTF8.self)))
                // And the document means what the Encodable view says.
                let expected = try WireJSON.encode(DataRoutes.OneResponse(record: DataRoutes.RecordView(r), last_synced_at: ISOTime.string(synced),
                                                                         source: "cache", stale: false, upstream_error: nil))
                #expect(try JSONValue.parse(bytes) == JSONValue.parse(expected))
            }
        }
    }

    @Test func aListGoesOutWithTheSameFieldsAsTheEncoder() throws {
        let records = (0..<3).map { i in
            StoredRecord(collection: "c", key: "k\(i)", data: Array("{\"n\": \(i)}".utf8), hash: "h\(i)", firstSeenAt: Date(millis: 1_000 * Int64(i)),
                         syncedAt: Date(millis: 2_000), changedAt: Date(millis: 3_000), deletedAt: i == 1 ? Date(millis: 4_000) : nil)
        }
        for (cursor, refresh, stale, error) in [(nil, nil, nil, nil), ("abc", "run-1", true, "upstream said no"), ("x", "run-2", false, nil)] as [(String?, String?, Bool?, String?)] {
            let bytes = RecordJSON.list(records, nextCursor: cursor, lastSyncedAt: Date(millis: 5_000), source: "cache", refreshRun: refresh,
                                        stale: stale, upstreamError: error)
            let expected = try WireJSON.encode(DataRoutes.ListResponse(records: records.map(DataRoutes.RecordView.init), next_cursor: cursor,
                                                                      last_synced_at: ISOTime.string(Date(millis: 5_000)), source: "cache",
                                                                      refresh_run: refresh, stale: stale, upstream_error: error))
            #expect(try JSONValue.parse(bytes) == JSONValue.parse(expected))
        }
        #expect(try JSONValue.parse(RecordJSON.list([], nextCursor: nil, lastSyncedAt: nil, source: "cache")) == ["records": [], "source": "cache"])
    }
}
