import Synchronization

/// Group commit for the SQLite writer. A transaction that ends while others wait for the writer does not
/// commit: its work stays in the open SQLite transaction (each member runs in a savepoint of its own, so a
/// failing one is rolled back alone) and its caller waits; the next member to end with nobody waiting (or the
/// group's last seat) commits for all and resumes them. Under load, one commit's page writes serve many
/// transactions (a burst of runs finishing, claims, upserts); alone, a transaction commits at once as before.
/// A caller returns only after its work is committed, and learns of a failed commit.
final class WriteGroup: Sendable {
    static let maxMembers = 64

    private struct State {
        var open = false
        var waiting: [CommitTicket] = []
        var commits = 0
    }
    private let state = Mutex(State())

    /// Commits made so far (tests: a contended burst needs fewer commits than transactions).
    var commits: Int { state.withLock { $0.commits } }

    /// Opens the SQLite transaction unless the group's is still open.
    func join(_ c: SQLiteConnection) throws {
        if state.withLock({ $0.open }) { return }
        try c.script("BEGIN IMMEDIATE")
        state.withLock { $0.open = true }
    }

    /// Leaves the member's work to be committed by a later one; nil when the group is full (commit now).
    func deferCommit() -> CommitTicket? {
        state.withLock { s in
            guard s.waiting.count < Self.maxMembers - 1 else { return nil }
            let ticket = CommitTicket()
            s.waiting.append(ticket)
            return ticket
        }
    }

    /// Commits everything in the open transaction and resumes the members waiting for it.
    func commit(_ c: SQLiteConnection) throws {
        let members = state.withLock { s -> [CommitTicket] in
            defer { s.open = false; s.waiting = []; s.commits += 1 }
            return s.waiting
        }
        do {
            try c.script("COMMIT")
        } catch {
            try? c.script("ROLLBACK")
            for m in members { m.resolve(error) }
            throw error
        }
        for m in members { m.resolve(nil) }
    }

    /// Undoes the whole transaction (a member's savepoint could not be rolled back alone): every waiting member
    /// learns its work was lost.
    func abort(_ c: SQLiteConnection, because error: any Error) {
        let members = state.withLock { s -> [CommitTicket] in
            defer { s.open = false; s.waiting = [] }
            return s.waiting
        }
        try? c.script("ROLLBACK")
        for m in members { m.resolve(error) }
    }
}

/// A member's wait for the commit of its group.
final class CommitTicket: Sendable {
    private struct State {
        var outcome: Result<Void, any Error>?
        var waiter: CheckedContinuation<Void, any Error>?
    }
    private let state = Mutex(State())

    func resolve(_ error: (any Error)?) {
        let outcome: Result<Void, any Error> = error.map { .failure($0) } ?? .success(())
        let waiter = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            s.outcome = outcome
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(with: outcome)
    }

    func wait() async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let ready = state.withLock { s -> Result<Void, any Error>? in
                if s.outcome == nil { s.waiter = c }
                return s.outcome
            }
            if let ready { c.resume(with: ready) }
        }
    }
}
