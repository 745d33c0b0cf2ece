import Foundation
import PluginAPI

/// A record as the store keeps it.
public struct StoredRecord: Sendable, Equatable {
    public var collection: String
    public var key: String
    /// The record's data, UTF-8 JSON exactly as the plugin sent it (and as it was hashed), on both backends.
    public var data: [UInt8]
    public var hash: String
    public var firstSeenAt: Date
    /// Last time a sync saw it.
    public var syncedAt: Date
    /// Last time its content changed (or it was deleted / came back).
    public var changedAt: Date
    /// Set when a complete full sync no longer saw it.
    public var deletedAt: Date?

    public var json: JSONValue { (try? WireJSON.decode(JSONValue.self, from: data)) ?? .null }
}

/// One page of an upsert, parsed from the plugin's framed payload.
public struct UpsertPage: Sendable {
    public var collection: String
    public var records: [(key: String, data: [UInt8])]
    public var cursor: StoreService.CursorUpdate?
    public var dryRun: Bool

    public init(collection: String, records: [(key: String, data: [UInt8])], cursor: StoreService.CursorUpdate? = nil, dryRun: Bool = false) {
        self.collection = collection
        self.records = records
        self.cursor = cursor
        self.dryRun = dryRun
    }

    /// The longest record key, in UTF-8 bytes.
    public static let maxKeyBytes = 512

    /// Parses frame 0 (header) and the key/data frame pairs; every malformed part is named.
    public static func parse(_ bytes: [UInt8]) throws -> UpsertPage {
        var reader = FrameReader(bytes)
        let header: StoreService.UpsertHeader
        do {
            header = try WireJSON.decode(StoreService.UpsertHeader.self, from: Array(try reader.next()))
        } catch {
            throw PluginError(.invalid, "store.upsert: malformed header: \(error)")
        }
        var records: [(key: String, data: [UInt8])] = []
        while !reader.isAtEnd {
            let keyBytes = try reader.next()
            guard !reader.isAtEnd else { throw PluginError(.invalid, "store.upsert: record \(records.count) has a key but no data") }
            let data = Array(try reader.next())
            guard let key = String(validating: keyBytes, as: UTF8.self), !key.isEmpty, key.utf8.count <= Self.maxKeyBytes else {
                throw PluginError(.invalid, "store.upsert: record \(records.count) has an empty, over-long (> \(Self.maxKeyBytes) bytes) or non-UTF-8 key")
            }
            guard Self.looksLikeJSON(data) else {
                throw PluginError(.invalid, "store.upsert: record \(key.debugDescription) data is not JSON")
            }
            records.append((key, data))
        }
        return UpsertPage(collection: header.collection, records: records, cursor: header.cursor, dryRun: header.dryRun)
    }

    /// The page with repeated keys collapsed to their last occurrence (both backends count the same way).
    public var deduplicated: [(key: String, data: [UInt8])] {
        var last: [String: Int] = [:]
        for (i, r) in records.enumerated() { last[r.key] = i }
        guard last.count != records.count else { return records }
        return records.enumerated().filter { last[$0.element.key] == $0.offset }.map(\.element)
    }

    /// A cheap check (the full parse would cost more than the write): valid UTF-8 starting like a JSON value.
    static func looksLikeJSON(_ data: [UInt8]) -> Bool {
        guard let first = data.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else { return false }
        guard "{[\"-0123456789tfn".utf8.contains(first) else { return false }
        guard UTF8Validation.isValid(data) else { return false }
        if "tfn".utf8.contains(first) {
            return ["true", "false", "null"].contains(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return true
    }
}

/// What a list read asks for.
public struct RecordQuery: Sendable {
    /// The largest page one query may ask for.
    public static let maxLimit = 10_000

    public enum Order: String, Sendable, CaseIterable { case key, syncedAt = "synced_at", changedAt = "changed_at" }

    /// Equality on top-level fields of the data (compared as text).
    public var filters: [(field: String, value: String)] = []
    public var keyFrom: String?
    public var keyTo: String?
    public var order: Order = .key
    public var descending = false
    public var limit = 100
    /// The opaque cursor of the previous page.
    public var cursor: String?
    public var includeDeleted = false

    public init() {}

    nonisolated(unsafe) static let fieldPattern = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/

    func validated() throws -> RecordQuery {
        guard (1...Self.maxLimit).contains(limit) else { throw HostError.invalid("limit must be 1-\(Self.maxLimit)") }
        for f in filters where (try? RecordQuery.fieldPattern.wholeMatch(in: f.field)) == nil {
            throw HostError.invalid("filter field \(f.field.debugDescription) is not a plain top-level field name")
        }
        return self
    }
}

/// Keyset cursor: the sort value and the key of the last record of a page.
struct PageCursor: Codable {
    var v: Int64?
    var k: String

    var encoded: String { Data((try? WireJSON.encode(self)) ?? []).base64EncodedString() }

    static func decode(_ s: String) throws -> PageCursor {
        guard let data = Data(base64Encoded: s), let c = try? WireJSON.decode(PageCursor.self, from: Array(data)) else {
            throw HostError.invalid("cursor is not one this API returned")
        }
        return c
    }
}

public struct RecordPage: Sendable {
    public var records: [StoredRecord]
    public var nextCursor: String?
}

public struct CollectionSummary: Sendable, Equatable, Codable {
    public var name: String
    public var records: Int
    public var deleted: Int
    public var lastSyncedAt: Date?
}

extension Date {
    var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
    init(millis: Int64) { self.init(timeIntervalSince1970: Double(millis) / 1000) }
}
