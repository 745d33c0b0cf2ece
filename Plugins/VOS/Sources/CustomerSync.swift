import Foundation
import PluginAPI

/// `customers`: GetAllCustomers, then GetCustomer details in chunks → collection `customers` keyed by account.
/// With `initial: true` (the first run of a new node) a success queues the CDR backfill.
struct CustomerSync {
    static let chunkSize = 100

    let node: VOSNode
    let context: JobContext

    func run() async throws -> RunResult {
        let accounts = try await node.accounts(http: context.http)
        var counts = RunCounts()
        var start = 0
        while start < accounts.count {
            let chunk = Array(accounts[start..<min(start + Self.chunkSize, accounts.count)])
            start += chunk.count
            let response = try await node.call("GetCustomer", ["accounts": .array(chunk.map { .string($0) })], http: context.http)
            let records = (response["infoCustomers"]?.arrayValue ?? []).compactMap { c -> Record? in
                guard let account = c["account"]?.stringValue, !account.isEmpty else { return nil }
                return Record(key: account, data: c)
            }
            counts.fetched += records.count
            counts.pages += 1
            try await context.store.upsert("customers", records)
        }
        var message = "\(accounts.count) accounts"
        if (try context.params.bool("initial")) == true {
            let queued = try await Backfill(node: node, scheduler: context.scheduler).queue(now: Date())
            message += "; initial sync: queued \(queued.count) daily CDR jobs (\(queued.first ?? "")…\(queued.last ?? ""))"
        }
        // Only a sync of every account sees the whole collection (a filtered one must not delete the rest).
        return RunResult(counts: counts, message: message, fullSync: node.accountFilter == nil ? ["customers"] : [])
    }

    /// A live read of one account (the legacy "refresh" button); nil when the node does not know it.
    static func fetch(account: String, node: VOSNode, http: HTTPService) async throws -> Record? {
        do {
            let r = try await node.call("GetCustomer", ["accounts": [.string(account)]], http: http)
            return r["infoCustomers"]?.arrayValue?.first.map { Record(key: account, data: $0) }
        } catch let e as PluginError where e.message.contains("retCode -10007") {
            return nil
        }
    }
}

/// The initial CDR backfill of a new node: one `cdrs` job per day for the last N days, today first, spaced
/// by the configured delay, as delayed runs in the host's queue (visible and cancellable there).
struct Backfill {
    let node: VOSNode
    let scheduler: SchedulerService

    func queue(now: Date) async throws -> [String] {
        var days: [String] = []
        for i in 0..<node.backfillDays {
            let day = node.day(now, minus: i)
            let at = now.addingTimeInterval(Double(i * node.backfillSpacingMs) / 1000)
            try await scheduler.enqueue(job: "cdrs", params: ["date": .string(day)], at: at, trigger: "initial")
            days.append(day)
        }
        return days
    }
}
