import Foundation
import PluginAPI

/// `phones`: GetAllPhoneOnline (numbers only), then GetPhoneOnline in chunks for the details → collection
/// `phones` keyed by e164. A phone that drops off the online list is marked offline, never deleted.
struct PhoneSync {
    static let chunkSize = 200

    let node: VOSNode
    let context: JobContext

    func run() async throws -> RunResult {
        let online = try await node.call("GetAllPhoneOnline", [:], http: context.http)["e164s"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var counts = RunCounts()
        var seen = Set<String>()
        var start = 0
        while start < online.count {
            let chunk = Array(online[start..<min(start + Self.chunkSize, online.count)])
            start += chunk.count
            let r = try await node.call("GetPhoneOnline", ["e164s": .array(chunk.map { .string($0) })], http: context.http)
            let records = (r["infoPhoneOnlines"]?.arrayValue ?? []).compactMap { p -> Record? in
                guard let e164 = p["e164"]?.stringValue, !e164.isEmpty, var o = p.objectValue else { return nil }
                seen.insert(e164)
                o["status"] = "online"
                return Record(key: e164, data: .object(o))
            }
            counts.fetched += records.count
            counts.pages += 1
            try await context.store.upsert("phones", records)
        }
        // Phones stored as online that the node no longer lists went offline.
        var wentOffline: [Record] = []
        var cursor: String?
        repeat {
            let page = try await context.store.list(.init(collection: "phones", filters: ["status": "online"], limit: 1000, cursor: cursor))
            for r in page.records where !seen.contains(r.key) {
                guard var o = r.data.objectValue else { continue }
                o["status"] = "offline"
                o["currentCall"] = 0
                wentOffline.append(Record(key: r.key, data: .object(o)))
            }
            cursor = page.nextCursor
        } while cursor != nil
        if !wentOffline.isEmpty { try await context.store.upsert("phones", wentOffline) }
        return RunResult(counts: counts, message: "\(seen.count) online, \(wentOffline.count) went offline")
    }

    static func fetch(e164: String, node: VOSNode, http: HTTPService) async throws -> Record? {
        let r = try await node.call("GetPhoneOnline", ["e164s": [.string(e164)]], http: http)
        guard var o = r["infoPhoneOnlines"]?.arrayValue?.first?.objectValue else { return nil }
        o["status"] = "online"
        return Record(key: e164, data: .object(o))
    }
}
