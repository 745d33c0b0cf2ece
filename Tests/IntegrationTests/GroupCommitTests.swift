import Foundation
import Testing

@testable import Host
@testable import TestKit

/// The SQLite writer's group commit: transactions queued behind one another share a commit, a failing one is
/// undone alone, and nobody is told their work is saved before it is.
@Suite("SQLite group commit")
struct GroupCommitTests {
    /// A transaction holding the writer until the test lets it go, with `count` more queued behind it.
    private func queueBehindAGate(_ db: SQLiteExecutor, count: Int, body: @escaping @Sendable (Int, any SQLSession) async throws -> Void)
        async throws -> (gate: AsyncStream<Void>.Continuation, results: [Task<Void, any Error>])
    {
        let (opened, gate) = AsyncStream<Void>.makeStream()
        let (entered, holding) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await db.transaction { s in
                try await s.execute("INSERT INTO t (i) VALUES (?)", [.int(0)])
                holding.yield()
                for await _ in opened { break }
            }
        }
        for await _ in entered { break }  // the holder has the writer
        var results = [holder]
        for i in 1...count {
            results.append(Task { try await db.transaction { s in try await body(i, s) } })
            // Queued in this order (polled gently: spinning would starve the two-thread pool the tasks need).
            while db.writerWaiting < i { try await Task.sleep(for: .milliseconds(1)) }
        }
        return (gate, results)
    }

    private func rows(_ db: SQLiteExecutor) async throws -> Set<Int64> {
        Set(try await db.read { s in try await s.query("SELECT i FROM t", []) }.compactMap { $0.int(0) })
    }

    private func freshDatabase() async throws -> SQLiteExecutor {
        let db = try SQLiteExecutor(path: try temporaryDirectory("group").appendingPathComponent("g.db").path)
        try await db.transaction { s in try await s.execute("CREATE TABLE t (i INTEGER PRIMARY KEY)", []) }
        return db
    }

    @Test func queuedTransactionsShareOneCommitAndAFailingOneIsUndoneAlone() async throws {
        let db = try await freshDatabase()
        // Every fifth member inserts, then fails: its row must not survive, its neighbours' must.
        let (gate, tasks) = try await queueBehindAGate(db, count: 20) { i, s in
            try await s.execute("INSERT INTO t (i) VALUES (?)", [.int(Int64(i))])
            if i % 5 == 0 { throw SQLError(message: "member \(i) fails", sql: "") }
        }
        let commitsBefore = db.group.commits
        // Blocked in the holder's body: the writer is held, so no member can have been told anything yet. The
        // holder's row is visible only once its own call returns.
        #expect(try await rows(db).isEmpty)
        gate.yield()
        var failed: [Int] = []
        for (i, task) in tasks.enumerated() {
            do {
                try await task.value
                // Returned: committed, so any other connection sees it.
                #expect(try await rows(db).contains(Int64(i)), "member \(i) returned before its row was committed")
            } catch { failed.append(i) }
        }
        #expect(failed == [5, 10, 15, 20])
        #expect(try await rows(db) == Set(([0] + (1...20).filter { $0 % 5 != 0 }).map(Int64.init)))
        #expect(db.group.commits - commitsBefore == 1, "21 transactions queued together were committed \(db.group.commits - commitsBefore) times")
    }

    @Test func whenAMembersFailureUndoesTheWholeTransactionEveryoneWaitingOnItIsTold() async throws {
        let db = try await freshDatabase()
        // Member 10 rolls the whole SQLite transaction back (as SQLite itself does on a full disk or an I/O
        // error): the holder and members 1–9 were waiting for that transaction's commit.
        let (gate, tasks) = try await queueBehindAGate(db, count: 20) { i, s in
            try await s.execute("INSERT INTO t (i) VALUES (?)", [.int(Int64(i))])
            if i == 10 {
                try await s.execute("ROLLBACK", [])
                throw SQLError(message: "disk I/O error", sql: "")
            }
        }
        gate.yield()
        var failed: [Int] = []
        for (i, task) in tasks.enumerated() {
            do { try await task.value } catch { failed.append(i) }
        }
        #expect(failed == Array(0...10))
        #expect(try await rows(db) == Set((11...20).map(Int64.init)))
    }
}
