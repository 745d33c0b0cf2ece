import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// SIGKILL a host process in the middle of a sync: nothing is lost, nothing duplicated, the cursor that was
/// saved with each page lets the next run resume where the killed one stopped.
@Suite("Crash: SIGKILL mid-sync", .serialized, .needs(.endToEnd))
struct CrashTests {
    @Test func aKilledSyncResumesFromItsCursorAndEndsEqualToTheUpstream() async throws {
        let (dir, plugins) = try await directoryWithTinyPlugin("crash")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("synchost.db").path
        let total = 400_000
        let arguments = ["run-once", "tiny_c", "bulk", "--plugins", plugins.path, "--database", db, "--instance", "crash",
                         "--param", "total=\(total)", "--param", "page=250"]

        let child = Process()
        child.executableURL = Build.synchost
        child.arguments = arguments
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()

        // Wait until a good part is written, then kill without warning. The store is opened once (an open migrates:
        // a write that would queue behind the child's), and progress read from the cursor (a point read).
        let deadline = ContinuousClock.now + .seconds(60)
        var watcher: SQLStore?
        var written = 0
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            if watcher == nil, FileManager.default.fileExists(atPath: db) { watcher = try? await openSQLite(db) }
            guard let watcher else { continue }
            written = Int((try? await watcher.cursor(instance: "crash", stream: "bulk"))??.intValue ?? 0)
            if written >= 40_000 { break }
        }
        kill(child.processIdentifier, SIGKILL)
        await child.exited()
        #expect(child.terminationReason == .uncaughtSignal)

        let store = try await openSQLite(db)
        let atKill = try await store.collections(instance: "crash").first?.records ?? 0
        let cursorAtKill = try await store.cursor(instance: "crash", stream: "bulk")?.intValue ?? 0
        #expect(atKill > 0 && atKill < total, "the kill must land mid-run (had \(atKill) of \(total))")
        // The cursor is written in the same transaction as its page: it never runs ahead or behind the data.
        #expect(Int(cursorAtKill) == atKill)

        // Restart: the next run resumes from the cursor and completes.
        let rerun = try await runProcess(Build.synchost.path, arguments)
        #expect(rerun.status == 0, "\(rerun.stdout)\n\(rerun.stderr)")
        #expect(rerun.stdout.contains("succeeded: fetched \(total - atKill), inserted \(total - atKill), updated 0, unchanged 0"), "\(rerun.stdout)")

        let final = try #require(try await store.collections(instance: "crash").first)
        #expect(final.records == total)
        #expect(try await store.cursor(instance: "crash", stream: "bulk") == .int(Int64(total)))
        // Every key once, with its content.
        var q = RecordQuery()
        q.limit = 10_000
        var seen = 0
        var expected = 0
        repeat {
            let p = try await store.records(instance: "crash", collection: "bulk", query: q)
            for r in p.records {
                #expect(r.key == String(format: "r%08d", expected))
                expected += 1
            }
            seen += p.records.count
            q.cursor = p.nextCursor
        } while q.cursor != nil
        #expect(seen == total)
        #expect(try await store.record(instance: "crash", collection: "bulk", key: "r00123456")?.json == ["id": "r00123456", "n": 123456, "text": "record number 123456 of the bulk collection"])

        // The killed run stays "running" in history until the scheduler's recovery marks it; the rerun succeeded.
        var runs = RunQuery()
        runs.instance = "crash"
        let history = try await store.runs(runs)
        #expect(history.count == 2)
        #expect(history.first?.status == .succeeded)
    }
}
