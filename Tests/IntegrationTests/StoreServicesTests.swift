import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// The store operations plugins reach beyond upsert/get (aggregate, purge) and the notification outbox,
/// on both backends.
@Suite("Store services and outbox, both backends")
struct StoreServicesTests {
    func page(_ collection: String, _ records: [(String, JSONValue)]) -> UpsertPage {
        UpsertPage(collection: collection, records: records.map { ($0.0, $0.1.jsonBytes) })
    }

    @Test(arguments: Backend.available)
    func aggregateGroupsCountsAndSumsAndPurgesRemoveForGood(_ backend: Backend) async throws {
        let store = try await backend.open()
        let i = "agg-\(UUID().uuidString.prefix(8))"
        let now = Date()
        _ = try await store.upsert(page("cdrs", [
            ("1", ["date": "2026-11-01", "fee": 1.5, "holdTime": 60]), ("2", ["date": "2026-11-01", "fee": 0.5, "holdTime": 30]),
            ("3", ["date": "2026-11-02", "fee": 2, "holdTime": 0]), ("4", ["date": "2026-11-03", "fee": 9, "holdTime": 9]),
        ]), instance: i, runID: "r1", now: now)
        let rows = try await store.aggregate(instance: i, .init(collection: "cdrs", groupBy: "date", sum: ["fee", "holdTime"], from: "2026-11-01", to: "2026-11-02"))
        #expect(rows == [
            .init(group: "2026-11-01", count: 2, sums: ["fee": 2.0, "holdTime": 90]),
            .init(group: "2026-11-02", count: 1, sums: ["fee": 2.0, "holdTime": 0]),
        ])
        #expect(try await store.aggregate(instance: i, .init(collection: "cdrs")).first?.count == 4)
        await #expect(throws: PluginError.self) { try await store.aggregate(instance: i, .init(collection: "cdrs", groupBy: "date'); DROP TABLE records; --")) }

        // Deleted records form their own group when asked.
        _ = try await store.upsert(page("cdrs", [("1", ["date": "2026-11-01", "fee": 1.5, "holdTime": 60])]), instance: i, runID: "r2", now: now)
        #expect(try await store.markUnseenDeleted(instance: i, collection: "cdrs", runID: "r2", now: now) == 3)
        let byStatus = try await store.aggregate(instance: i, .init(collection: "cdrs", groupBy: "date", deletedAsGroup: true))
        #expect(Dictionary(uniqueKeysWithValues: byStatus.map { ($0.group ?? "", $0.count) }) == ["2026-11-01": 1, "deleted": 3])
        #expect(try await store.purgeDeleted(instance: i, collection: "cdrs", before: now.addingTimeInterval(-60)) == 0)
        #expect(try await store.purgeDeleted(instance: i, collection: "cdrs", before: now.addingTimeInterval(60)) == 3)
        #expect(try await store.purgeKeys(instance: i, collection: "cdrs", keys: ["1", "nope"]) == 1)
        #expect(try await store.aggregate(instance: i, .init(collection: "cdrs")).first?.count ?? 0 == 0)
    }

    @Test(arguments: Backend.available)
    func theOutboxDedupsClaimsOnceRecoversLeasesAndLists(_ backend: Backend) async throws {
        let store = try await backend.open()
        let channel = "ch-\(UUID().uuidString.prefix(8))"
        let now = Date()
        let a = OutboxNotification(channel: channel, sourceInstance: "src", dedupKey: "k1", message: OutgoingMessage(text: "一"), maxAttempts: 3, now: now)
        let dup = OutboxNotification(channel: channel, sourceInstance: "src", dedupKey: "k1", message: OutgoingMessage(text: "again"), maxAttempts: 3, now: now)
        let b = OutboxNotification(channel: channel, sourceInstance: nil, dedupKey: nil, message: OutgoingMessage(subject: "s", text: "二", format: "markdown"), maxAttempts: 3, now: now)
        let ids = try await store.enqueue([a, dup, b])
        #expect(ids == [a.id, a.id, b.id])
        var q = NotificationQuery()
        q.channel = channel
        #expect(try await store.notifications(q).count == 2)

        // Two claimers at once: each notification is claimed by exactly one.
        async let first = store.claimDueNotifications(now: now.addingTimeInterval(1), owner: "h1", leaseUntil: now.addingTimeInterval(30), limit: 100)
        async let second = store.claimDueNotifications(now: now.addingTimeInterval(1), owner: "h2", leaseUntil: now.addingTimeInterval(30), limit: 100)
        let claimed = (try await first + second).filter { $0.channel == channel }
        #expect(claimed.count == 2 && Set(claimed.map(\.id)).count == 2)
        #expect(claimed.allSatisfy { $0.state == .sending })
        // Not due again until the lease expires (a host that died mid-delivery).
        #expect(try await store.claimDueNotifications(now: now.addingTimeInterval(2), owner: "h3", leaseUntil: now.addingTimeInterval(40), limit: 100).filter { $0.channel == channel }.isEmpty)
        let recovered = try await store.claimDueNotifications(now: now.addingTimeInterval(31), owner: "h3", leaseUntil: now.addingTimeInterval(60), limit: 100).filter { $0.channel == channel }
        #expect(recovered.count == 2)

        var done = try #require(recovered.first { $0.id == b.id })
        done.state = .sent
        done.attempts = 1
        done.sentAt = now
        done.detail = "ok"
        try await store.updateNotification(done)
        let back = try #require(try await store.notification(id: b.id))
        #expect(back.state == .sent && back.message == OutgoingMessage(subject: "s", text: "二", format: "markdown") && back.detail == "ok")
        q.state = .sent
        #expect(try await store.notifications(q).map(\.id) == [b.id])
        #expect(try await store.outboxDepth() >= 1)
    }
}
