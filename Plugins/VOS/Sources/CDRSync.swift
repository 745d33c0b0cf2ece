import Foundation
import PluginAPI

/// `cdrs`: GetCdr for one account and one day per request (the manual: "not for frequent use"), paced, →
/// collection `cdrs` keyed by flowNo (a content hash when the node omits it), so re-syncing a day never
/// duplicates. Each day's state (plugin state `cdr_day/<date>`) says whether every account of it was fetched.
struct CDRSync {
    static let batchSize = 5_000

    let node: VOSNode
    let context: JobContext

    static func dayState(_ day: String) -> String { "cdr_day/\(day)" }
    static let callDateKey = Array(#","call_date":""#.utf8)

    struct Failure {
        let day: String
        let account: String
        let message: String
    }

    func run() async throws -> RunResult {
        let from = try context.params.string("date") ?? node.day(Date(), minus: 1)
        let days = try node.days(from: from, to: try context.params.string("to") ?? from)
        let accounts = try await node.accounts(http: context.http)
        var counts = RunCounts()
        var failures: [Failure] = []
        var requests = 0
        var perDay: [String: JSONValue] = [:]
        for day in days {
            var dayCount = 0
            var failed: [String] = []
            for (done, account) in accounts.enumerated() {
                await context.scheduler.progress(done: done, total: accounts.count, label: "\(day) · \(done)/\(accounts.count) accounts", bar: day)
                if requests > 0 && node.pacingMs > 0 { try await Task.sleep(for: .milliseconds(node.pacingMs)) }
                try Task.checkCancellation()
                requests += 1
                do {
                    dayCount += try await fetch(account: account, day: day, counts: &counts)
                } catch let e as PluginError where e.kind == .config || e.kind == .cancelled {
                    throw e  // a refused IP or a stopped run: the next account would fare no better
                } catch {
                    let message = (error as? PluginError)?.message ?? "\(error)"
                    failures.append(Failure(day: day, account: account, message: message))
                    failed.append(account)
                    context.log.warning("cdrs \(day) \(account): \(message)")
                }
            }
            await context.scheduler.progress(done: accounts.count, total: accounts.count, label: "\(day) · \(accounts.count)/\(accounts.count) accounts", bar: day)
            let complete = failed.isEmpty
            perDay[day] = ["cdrs": .int(Int64(dayCount)), "complete": .bool(complete)]
            // Plugin state, not a collection: the run's counts stay counts of CDRs.
            if !context.dryRun {
                try await context.store.setState(Self.dayState(day), [
                    "accounts": .int(Int64(accounts.count)), "cdrs": .int(Int64(dayCount)), "complete": .bool(complete),
                    "failed_accounts": .array(failed.map { .string($0) }), "synced_at": .string(ISO8601DateFormatter().string(from: Date())),
                ])
            }
        }
        let details: [String: JSONValue] = ["days": .object(perDay), "accounts": .int(Int64(accounts.count))]
        guard !failures.isEmpty else {
            return RunResult(counts: counts, message: "\(days.count) day(s) × \(accounts.count) account(s)", details: details)
        }
        let summary = failures.prefix(3).map { "\($0.day) \($0.account): \($0.message)" }.joined(separator: "; ")
        if failures.count == requests {
            throw PluginError(.upstream, "every GetCdr request failed (\(requests)); \(summary)")
        }
        let incompleteDays = Set(failures.map(\.day)).sorted()
        return RunResult(
            complete: false, counts: counts,
            message: "\(failures.count) of \(requests) account-days failed; incomplete day(s): \(incompleteDays.joined(separator: ", ")); \(summary)",
            details: details)
    }

    /// One account-day, read as the node sends it (ABI 1.2 streams) and written in batches straight from its
    /// bytes: each CDR is its own bytes with the day spliced in front, keyed by flowNo read without parsing
    /// the CDR. One piece of the answer and two batches are held, whatever the day's size; a batch is written
    /// while the next is read. Returns how many CDRs the node sent.
    func fetch(account: String, day: String, counts: inout RunCounts) async throws -> Int {
        let compact = day.replacingOccurrences(of: "-", with: "")
        let datePrefix = Array("{\"date\":\(String(decoding: JSONValue.string(day).jsonBytes, as: UTF8.self))".utf8)
        let store = context.store
        var batch: [(key: String, json: [UInt8])] = []
        var sent = 0
        var callDate = CallDate(zone: node.zone)
        try await withThrowingTaskGroup(of: Void.self) { writes in
            var writing = false
            func write(_ rows: [(key: String, json: [UInt8])]) async throws {
                if writing { try await writes.next() }  // one batch in flight: writes stay in order
                writes.addTask { try await store.upsertRaw("cdrs", rows) }
                writing = true
            }
            try await node.callStreaming(
                "GetCdr", ["accounts": [.string(account)], "beginTime": .string(compact), "endTime": .string(compact)],
                http: context.http, arrayKey: "infoCdrs"
            ) { bytes, ranges in
                for range in ranges {
                    guard let row = try Self.row(bytes, range, day: day, datePrefix: datePrefix, callDate: &callDate) else { continue }
                    if batch.isEmpty { batch.reserveCapacity(Self.batchSize) }
                    batch.append(row)
                    sent += 1
                    if batch.count == Self.batchSize {
                        try await write(batch)
                        batch = []
                    }
                }
            }
            if !batch.isEmpty { try await write(batch) }
            try await writes.waitForAll()
        }
        counts.pages += 1
        counts.fetched += sent
        return sent
    }

    /// One CDR's key and stored bytes. The usual CDR (an object with a flowNo and no `date` of its own) is
    /// spliced: `{"date":"…","call_date":"…",` + its own fields, `date` the day it was synced for and
    /// `call_date` the day its `start` falls on in the node's zone (what `cdr-stats` groups by). Anything else
    /// is parsed and keyed as it always was.
    static func row(_ bytes: [UInt8], _ range: Range<Int>, day: String, datePrefix: [UInt8], callDate: inout CallDate) throws -> (key: String, json: [UInt8])? {
        guard let fields = try JSONElementScan.fields(["flowNo", "date", "start"], of: bytes, in: range) else { return nil }
        let called = fields["start"]?.intValue.map { callDate.day(ms: $0) } ?? Array(day.utf8)
        if fields["date"] == nil, let flow = fields["flowNo"], let key = flow.intValue.map(String.init) ?? flow.stringValue {
            var json = datePrefix
            json.reserveCapacity(datePrefix.count + range.count + 28)
            json.append(contentsOf: Self.callDateKey)
            json.append(contentsOf: called)
            json.append(UInt8(ascii: "\""))
            let body = bytes[(range.lowerBound + 1)..<range.upperBound]  // after '{'
            if body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) != UInt8(ascii: "}") { json.append(UInt8(ascii: ",")) }
            json.append(contentsOf: body)
            return (key, json)
        }
        let cdr = try JSONValue.parse(bytes[range])
        guard var o = cdr.objectValue else { return nil }
        let key: String
        if let flow = o["flowNo"], !flow.isNull {
            key = flow.intValue.map(String.init) ?? flow.stringValue ?? ContentHash.of(cdr.jsonBytes)
        } else {
            key = "h:" + ContentHash.of(cdr.jsonBytes)
        }
        o["date"] = .string(day)
        o["call_date"] = .string(String(decoding: called, as: UTF8.self))
        return (key, JSONValue.object(o).jsonBytes)
    }
}
