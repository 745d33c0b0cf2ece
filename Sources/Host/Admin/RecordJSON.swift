import Foundation
import PluginAPI

/// Record responses assembled as bytes: the stored data goes out exactly as stored (it is JSON already), with
/// no decode and re-encode; keys in the same (sorted) order as the API's other JSON.
enum RecordJSON {
    /// `{"last_synced_at":…,"record":{…},"source":…,"stale":…}`
    static func one(_ r: StoredRecord, lastSyncedAt: Date?, source: String, stale: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(r.data.count + 320)
        out.append(UInt8(ascii: "{"))
        if let lastSyncedAt {
            field("last_synced_at", &out)
            time(lastSyncedAt, &out)
            out.append(UInt8(ascii: ","))
        }
        field("record", &out)
        record(r, &out)
        out.append(UInt8(ascii: ","))
        field("source", &out)
        JSONValue.writeString(source, to: &out)
        out.append(UInt8(ascii: ","))
        field("stale", &out)
        out.append(contentsOf: (stale ? "true" : "false").utf8)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// `{"last_synced_at":…,"next_cursor":…,"records":[…],"refresh_run":…,"source":…,"stale":…,"upstream_error":…}`
    /// (absent values left out, as the encoder does).
    static func list(_ records: [StoredRecord], nextCursor: String?, lastSyncedAt: Date?, source: String,
                     refreshRun: String? = nil, stale: Bool? = nil, upstreamError: String? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(records.reduce(256) { $0 + $1.data.count + 240 })
        out.append(UInt8(ascii: "{"))
        if let lastSyncedAt {
            field("last_synced_at", &out)
            time(lastSyncedAt, &out)
            out.append(UInt8(ascii: ","))
        }
        if let nextCursor {
            field("next_cursor", &out)
            JSONValue.writeString(nextCursor, to: &out)
            out.append(UInt8(ascii: ","))
        }
        field("records", &out)
        out.append(UInt8(ascii: "["))
        for (i, r) in records.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            record(r, &out)
        }
        out.append(contentsOf: [UInt8(ascii: "]"), UInt8(ascii: ",")])
        if let refreshRun {
            field("refresh_run", &out)
            JSONValue.writeString(refreshRun, to: &out)
            out.append(UInt8(ascii: ","))
        }
        field("source", &out)
        JSONValue.writeString(source, to: &out)
        if let stale {
            out.append(UInt8(ascii: ","))
            field("stale", &out)
            out.append(contentsOf: (stale ? "true" : "false").utf8)
        }
        if let upstreamError {
            out.append(UInt8(ascii: ","))
            field("upstream_error", &out)
            JSONValue.writeString(upstreamError, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// `{"changed_at":…,"data":<stored bytes>,"deleted_at":…,"first_seen_at":…,"hash":…,"key":…,"synced_at":…}`
    static func record(_ r: StoredRecord, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        field("changed_at", &out)
        time(r.changedAt, &out)
        out.append(UInt8(ascii: ","))
        field("data", &out)
        out.append(contentsOf: r.data)
        out.append(UInt8(ascii: ","))
        if let deleted = r.deletedAt {
            field("deleted_at", &out)
            time(deleted, &out)
            out.append(UInt8(ascii: ","))
        }
        field("first_seen_at", &out)
        time(r.firstSeenAt, &out)
        out.append(UInt8(ascii: ","))
        field("hash", &out)
        JSONValue.writeString(r.hash, to: &out)
        out.append(UInt8(ascii: ","))
        field("key", &out)
        JSONValue.writeString(r.key, to: &out)
        out.append(UInt8(ascii: ","))
        field("synced_at", &out)
        time(r.syncedAt, &out)
        out.append(UInt8(ascii: "}"))
    }

    private static func field(_ name: StaticString, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    /// `"2026-11-23T10:00:00.123Z"`: what `ISOTime.string` writes, without a formatter.
    static func time(_ date: Date, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        ISOTime.write(millis: date.millis, to: &out)
        out.append(UInt8(ascii: "\""))
    }
}

extension ISOTime {
    /// UTC `yyyy-MM-ddTHH:mm:ss.SSSZ` from epoch milliseconds.
    static func write(millis: Int64, to out: inout [UInt8]) {
        let ms = Int(millis - floorDiv(millis, 1000) * 1000)
        let seconds = floorDiv(millis, 1000)
        let days = floorDiv(seconds, 86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        CivilDate(epochDay: Int(days)).write(to: &out)
        func digits(_ v: Int, _ n: Int) { CivilDate.appendDigits(v, n, to: &out) }
        out.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2); out.append(UInt8(ascii: ":")); digits(secondOfDay / 60 % 60, 2); out.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2); out.append(UInt8(ascii: ".")); digits(ms, 3)
        out.append(UInt8(ascii: "Z"))
    }
}
