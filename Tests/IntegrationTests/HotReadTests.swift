import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// The reads that carry the traffic: matched ahead of the router (`AdminResponder`) and answered from memory while
/// nothing is committed (`SQLiteCommitWatch`, `RecordResponseMemo`) — never stale for that.
@Suite("Hot reads: the fast match, and answers kept until the next commit")
struct HotReadTests {
    /// A commit by another process, made with Python's own sqlite3 (not this host's code).
    static func commitFromAnotherProcess(_ db: String, _ sql: String) async throws {
        let r = try await runProcess("/usr/bin/env", ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()", db, sql])
        try #require(r.status == 0, "python3 sqlite3: \(r.stderr)")
    }

    @Test func theCommitStampMovesWithEveryCommitFromAnyWriterAndOnlyThen() async throws {
        let path = try temporaryDirectory("stamp").appendingPathComponent("s.db").path
        let store = try await openSQLite(path)
        try #require(store.backend == "sqlite")
        _ = try await store.upsert(page("c", [("k", ["n": 1])]), instance: "i", runID: String?.none, now: Date())
        let first = try #require(store.commitStamp(), "no stamp from a database in WAL mode")
        // Reads commit nothing.
        _ = try await store.record(instance: "i", collection: "c", key: "k")
        _ = try await store.cachedRecord(instance: "i", collection: "c", key: "k")
        #expect(store.commitStamp() == first)
        // This store's writer.
        _ = try await store.upsert(page("c", [("k", ["n": 2])]), instance: "i", runID: String?.none, now: Date())
        let second = try #require(store.commitStamp())
        #expect(second != first)
        // Another connection (another store on the file).
        let other = try await openSQLite(path)
        _ = try await other.upsert(page("c", [("k", ["n": 3])]), instance: "i", runID: String?.none, now: Date())
        let third = try #require(store.commitStamp())
        #expect(third != second)
        // Another process.
        try await Self.commitFromAnotherProcess(path, "UPDATE records SET hash = 'x' || hash")
        let fourth = try #require(store.commitStamp())
        #expect(fourth != third)
        #expect(store.commitStamp() == fourth)
        await other.close()
    }

    /// The watch reads the `-shm` file through a descriptor of its own and must never close one: closing any
    /// descriptor of a file drops every POSIX lock the process holds on it, SQLite's among them, and the next process
    /// to open the database truncates the index under this process's connections (which then die of SIGBUS).
    @Test func aStoreClosedBesideAnotherLeavesSQLitesLocksOnTheIndexInPlace() async throws {
        let path = try temporaryDirectory("locks").appendingPathComponent("l.db").path
        let store = try await openSQLite(path)
        _ = try await store.upsert(page("c", [("k", ["n": 1])]), instance: "i", runID: String?.none, now: Date())
        _ = try #require(store.commitStamp())
        var other: SQLStore? = try await openSQLite(path)
        _ = try #require(other?.commitStamp())
        await other?.close()
        other = nil
        // Another process asks for the index's "DMS" byte (128) exclusively: this process's connections share-lock it.
        let probe = """
            import fcntl, os, sys
            fd = os.open(sys.argv[1], os.O_RDWR)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)
                print("unlocked")
            except OSError:
                print("locked")
            """
        let r = try await runProcess("/usr/bin/env", ["python3", "-c", probe, path + "-shm"])
        let locked = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "locked"
        #expect(locked, "SQLite's lock on the index is gone: \(r.stdout) \(r.stderr)")
        if locked {  // (unlocked, the next commit from outside would truncate the index and fault this process)
            try await Self.commitFromAnotherProcess(path, "UPDATE records SET hash = 'y' || hash")
            #expect(try await store.record(instance: "i", collection: "c", key: "k")?.hash.hasPrefix("y") == true)
        }
        await store.close()
    }

    @Test func aPostgreSQLStoreGivesNoStampSoEveryReadGoesToTheDatabase() async throws {
        let store = try await Backend.postgres.open()
        try #require(store.backend == "postgresql")
        #expect(store.commitStamp() == nil)
    }

    @Test func theFastMatchTakesOnlyThePlainFormOfTheTwoHotRoutes() {
        typealias M = AdminResponder.HotMatch
        #expect(AdminResponder.match("/api/v1/instances/g/collections/grade_stats/2026-11-20") == M.record(id: "g", collection: "grade_stats", key: "2026-11-20"))
        #expect(AdminResponder.match("/api/v1/plugins/guanke/instances/g/grade-stats") == M.plugin(name: "guanke", rest: "instances/g/grade-stats"))
        #expect(AdminResponder.match("/api/v1/plugins/guanke/x") == M.plugin(name: "guanke", rest: "x"))
        // Everything else is the router's: other routes, empty segments, a trailing slash, other lengths.
        for path in ["/api/v1/plugins/guanke", "/api/v1/plugins/rescan", "/api/v1/instances/g/collections/c", "/api/v1/instances/g/collections/c/k/",
                     "/api/v1/instances//collections/c/k", "/api/v1//instances/g/collections/c/k", "/api/v1/instances/g/retention/c/k",
                     "/api/v1/instances/g/collections/c/k/more", "/api/v2/instances/g/collections/c/k", "/api/v1/", "/api/v1", "/",
                     "/api/v1/plugins/guanke/x/", "/api/v1/plugins//x/y", "/API/v1/plugins/guanke/x", "/api/v1/plugins/a/b/c/d/e/f/g/h/i"] {
            #expect(AdminResponder.match(path) == nil, "\(path)")
        }
    }

    @Test func aRecordAnswerKeptInMemoryEndsWithAnyCommitAndTheRouterAnswersTheSame() async throws {
        let dir = try temporaryDirectory()
        _ = try await compileCPlugin(into: dir, fileName: "tiny.so")
        let path = try temporaryDirectory("hot").appendingPathComponent("hot.db").path
        let store = try await openSQLite(path)
        let kernel = Kernel(pluginDirectory: dir, logger: capturingLogger(CapturedLog()), store: store)
        try await kernel.registry.scan()
        let server = try await startServer(AdminServer(kernel: kernel, token: "t"))
        defer { server.task.cancel() }
        let base = "http://127.0.0.1:\(server.port)/api/v1"
        try await store.createInstance(InstanceRecord(id: "c1", plugin: "tiny_c", config: [:]), schedules: [])
        _ = try await store.upsert(page("greetings", [("a", ["id": "a", "n": 1])]), instance: "c1", runID: String?.none, now: Date())
        func n() async throws -> JSONValue? {
            let r = try await request("GET", "\(base)/instances/c1/collections/greetings/a", token: "t")
            #expect(r.status == 200, "\(r.body)")
            return r.json?["record"]?["data"]?["n"]
        }
        #expect(try await n() == 1)
        let stamp = try #require(store.commitStamp())
        #expect(try await n() == 1)
        #expect(store.commitStamp() == stamp, "a read committed something")

        // Each writer's commit is seen at once: this host, another connection, another process.
        _ = try await store.upsert(page("greetings", [("a", ["id": "a", "n": 2])]), instance: "c1", runID: String?.none, now: Date())
        #expect(try await n() == 2)
        let other = try await openSQLite(path)
        _ = try await other.upsert(page("greetings", [("a", ["id": "a", "n": 3])]), instance: "c1", runID: String?.none, now: Date())
        #expect(try await n() == 3)
        #expect(try await n() == 3)
        try await Self.commitFromAnotherProcess(path, "UPDATE records SET deleted_at = 1 WHERE instance_id = 'c1' AND key = 'a'")
        let gone = try await request("GET", "\(base)/instances/c1/collections/greetings/a", token: "t")
        #expect(gone.json?["record"]?["deleted_at"]?.stringValue != nil, "\(gone.body)")

        // The same answer through the router (a trailing slash is not the plain form), and the same errors.
        let fast = try await request("GET", "\(base)/instances/c1/collections/greetings/a", token: "t")
        let routed = try await request("GET", "\(base)/instances/c1/collections/greetings/a/", token: "t")
        #expect(routed.status == 200 && routed.body == fast.body)
        #expect(try await request("GET", "\(base)/instances/c1/collections/greetings/a").status == 401)
        #expect(try await request("GET", "\(base)/instances/c1/collections/greetings/zz", token: "t").status == 404)
        #expect(try await request("GET", "\(base)/instances/c1/collections/nope/a", token: "t").status == 404)
        #expect(try await request("GET", "\(base)/instances/zz/collections/greetings/a", token: "t").status == 404)
        // Another method on the path is the router's to answer (it has no POST there).
        #expect(try await request("POST", "\(base)/instances/c1/collections/greetings/a", token: "t").status == 404)
        // Security headers and the route's metrics label, as the router gives them.
        #expect(fast.headers["x-content-type-options"] == "nosniff" && fast.headers["content-security-policy"] != nil)
        let metrics = try await request("GET", "http://127.0.0.1:\(server.port)/metrics", token: "t")
        #expect(metrics.body.contains(#"http_route="/api/v1/instances/{id}/collections/{collection}/{key}""#), "\(metrics.body.prefix(2000))")
        await other.close()
    }
}
