import Foundation
import Logging
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// Secret config values are sealed before they reach the database: its file, WAL and a PostgreSQL dump hold none
/// of them, the plugin still gets them in clear, a rotation re-seals them while the host serves, and a wrong or
/// missing key is refused without changing anything.
@Suite("Secrets sealed at rest")
struct SecretsAtRestTests {
    /// Every file under `dir` that contains one of `secrets`, with the secret found.
    static func files(in dir: URL, containing secrets: [String]) throws -> [String] {
        var found: [String] = []
        let walker = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = walker?.nextObject() as? URL {
            guard (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true, let data = try? Data(contentsOf: url) else { continue }
            for s in secrets where data.range(of: Data(s.utf8)) != nil { found.append("\(url.lastPathComponent): \(s)") }
        }
        return found
    }

    static func mode(_ path: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int) ?? -1 }

    static func synchost(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
        try await runProcess(Build.synchost.path, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
    }

    @Test func sqliteFilesHoldNoSecretAndARotationWhileServingKeepsThePluginWorking() async throws {
        let (dir, plugins) = try await directoryWithTinyPlugin("at-rest")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        let first = "Kx7-FIRST-\(UUID().uuidString.prefix(8))", second = "Kx7-SECOND-\(UUID().uuidString.prefix(8))"
        let host = try await ServeProcess(dataDir: data, token: "at-rest-token", plugins: plugins, log: dir.appendingPathComponent("host.log"))
        defer { Task { await host.stop() } }

        #expect(try await host.api("POST", "/instances", #"{"id": "s1", "plugin": "tiny_c", "config": {"password": "\#(first)"}}"#).status == 201)
        #expect(try await host.api("PATCH", "/instances/s1", #"{"config": {"password": "\#(second)"}}"#).status == 200)
        #expect(try await host.api("GET", "/instances/s1").json?["config"]?["password"] == "***")
        // The plugin reads the clear value: the host masks exactly that value in what the run reports.
        func greetSeesTheSecret() async throws {
            let run = try await host.run("s1", "greet")
            #expect(run["status"] == "succeeded", "\(run)")
            #expect(run["message"]?.stringValue?.contains(#""password":"***""#) == true, "\(run["message"] ?? .null)")
        }
        try await greetSeesTheSecret()

        let db = data.appendingPathComponent("synchost.db").path
        let keyFile = db + ".key"
        for path in [db, db + "-wal", db + "-shm", keyFile] {
            #expect(Self.mode(path) == 0o600, "\(path): mode \(String(Self.mode(path), radix: 8))")
        }
        let common = ["--data-dir", data.path, "--plugins", plugins.path]
        let before = try await Self.synchost(["secrets", "status"] + common)
        #expect(before.status == 0 && before.stdout.contains("sealed values: 1 in 1 instance(s)"), "\(before.stdout)\(before.stderr)")
        let oldID = try #require(SecretKeyRing.load(file: URL(fileURLWithPath: keyFile))?.primary.id)

        // Rotation from another process while this host serves: it meets values sealed under a key it has not
        // seen, reads the key file again, and keeps working.
        let rotated = try await Self.synchost(["secrets", "rotate"] + common)
        #expect(rotated.status == 0 && rotated.stdout.contains("re-sealed the secrets of 1 instance(s)"), "\(rotated.stdout)\(rotated.stderr)")
        let ring = try #require(try SecretKeyRing.load(file: URL(fileURLWithPath: keyFile)))
        #expect(ring.keys.count == 2 && ring.keys[1].id == oldID && ring.primary.id != oldID)
        try await greetSeesTheSecret()
        let dropped = try await Self.synchost(["secrets", "rotate", "--drop-old"] + common)
        #expect(dropped.status == 0, "\(dropped.stderr)")
        #expect(try SecretKeyRing.load(file: URL(fileURLWithPath: keyFile))?.keys.count == 1)
        #expect(Self.mode(keyFile) == 0o600)
        try await greetSeesTheSecret()
        #expect(try await host.api("GET", "/instances/s1").json?["config"]?["password"] == "***")
        await host.stop()

        #expect(try Self.files(in: data, containing: [first, second]).isEmpty)
        // A database others can read is warned about at start.
        #expect(chmod(db, 0o644) == 0)
        let log = dir.appendingPathComponent("again.log")
        let again = try await ServeProcess(dataDir: data, token: "at-rest-token", plugins: plugins, log: log)
        await again.stop()
        #expect(try String(contentsOf: log, encoding: .utf8).contains("\(db) is readable by other users (mode 644): chmod 600 \(db)"))
        // The values are there, sealed: the clear value comes back through the store with the key.
        let store = try await openSQLite(db)
        #expect(try await store.instance(id: "s1")?.config["password"]?.stringValue == second)
    }

    @Test func aWrongOrMissingKeyIsRefusedAndNothingIsChanged() async throws {
        let (dir, plugins) = try await directoryWithTinyPlugin("wrong-key")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("synchost.db").path
        let common = ["--data-dir", dir.path, "--plugins", plugins.path]
        let added = try await Self.synchost(["instances", "add", "w1", "tiny_c", "--set", "password=Wr0ng-KEY-secret"] + common)
        #expect(added.status == 0, "\(added.stderr)")
        func snapshot() throws -> [Data?] { [db, db + "-wal", db + ".key"].map { FileManager.default.contents(atPath: $0) } }
        let before = try snapshot()

        let other = try SecretKeyRing(keys: [SecretKeyRing.newKey()], origin: .given).environmentText
        let wrong = try await Self.synchost(["instances", "list"] + common, environment: [SecretKeySource.environmentKey: other])
        #expect(wrong.status != 0 && wrong.stderr.contains("wrong secret key") && wrong.stderr.contains("nothing was changed"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("Fatal error"))
        #expect(try snapshot() == before)

        try FileManager.default.moveItem(atPath: db + ".key", toPath: db + ".key.away")
        let missing = try await Self.synchost(["instances", "list"] + common)
        #expect(missing.status != 0 && missing.stderr.contains("does not exist"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db + ".key"), "no new key was made for a database sealed under another")
        try FileManager.default.moveItem(atPath: db + ".key.away", toPath: db + ".key")
        let right = try await Self.synchost(["instances", "list"] + common)
        #expect(right.status == 0 && right.stdout.contains("w1"), "\(right.stderr)")
        #expect(try Self.files(in: dir, containing: ["Wr0ng-KEY-secret"]).isEmpty)
    }

    /// Two opens of one new database at the same moment (a host and a CLI command): both end with the one key the
    /// key file holds — never each its own, which would leave one of them sealing under a key that is lost.
    @Test func twoOpensOfANewDatabaseAtOnceShareOneKey() async throws {
        let dir = try temporaryDirectory("two-opens")
        defer { try? FileManager.default.removeItem(at: dir) }
        for n in 0..<10 {
            let db = dir.appendingPathComponent("n\(n).db").path
            async let a = openSQLite(db)
            async let b = openSQLite(db)
            let (x, y) = try await (a, b)
            let onDisk = try #require(try SecretKeyRing.load(file: URL(fileURLWithPath: db + ".key")))
            #expect(onDisk.keys.count == 1 && x.sealer?.keyRing.primary.id == onDisk.primary.id && y.sealer?.keyRing.primary.id == onDisk.primary.id)
        }
    }

    @Test func aDatabaseWrittenBeforeSealingHasItsClearSecretsSealedAtStart() async throws {
        let (dir, plugins) = try await directoryWithTinyPlugin("upgrade")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("synchost.db").path
        // What an earlier release wrote: the secret in clear.
        let old = try await openSQLite(db)
        try await old.write("INSERT INTO instances (id, plugin, config, enabled, created_at, updated_at, initial_pending) VALUES ('u1', 'tiny_c', ?, 1, 0, 0, 0)",
                            [.text(#"{"password": "0ld-CLEAR-secret"}"#)])
        try await (old.executor as! SQLiteExecutor).truncateLog()
        #expect(try Self.files(in: dir, containing: ["0ld-CLEAR-secret"]).count == 1, "the clear value is in the file before")

        let listed = try await Self.synchost(["instances", "list", "--data-dir", dir.path, "--plugins", plugins.path])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(try Self.files(in: dir, containing: ["0ld-CLEAR-secret"]).isEmpty)
        let reopened = try await openSQLite(db)
        #expect(try await reopened.instance(id: "u1")?.config["password"] == "0ld-CLEAR-secret")
    }

    /// Every secret config key of every in-tree plugin, given a value, created and updated: none of the values is in
    /// the database's files (SQLite) or in a dump of every table (PostgreSQL).
    @Test(arguments: [Backend.sqlite, .postgres])
    func aDumpOfTheDatabaseHoldsNoSecret(_ backend: Backend) async throws {
        let store = try await backend.open()
        let host = try await TestHost(store: store, startOutbox: false, startScheduler: false)
        defer { Task { await host.stop() } }
        var secrets: [String] = []
        var ids: [String] = []
        for plugin in host.kernel.registry.loaded {
            let keys = plugin.manifest.config.filter(\.secret).map(\.key)
            guard !keys.isEmpty else { continue }
            let id = freshInstance()
            var config: [String: JSONValue] = [:]
            for key in keys {
                let value = "Dump-\(plugin.name)-\(key)-\(UUID().uuidString.prefix(6))"
                config[key] = .string(value)
                secrets.append(value)
            }
            let record = InstanceRecord(id: id, plugin: plugin.name, config: config, enabled: false)
            try await host.store.createInstance(record, schedules: [])
            // Updated too: the new values sealed, the old ones gone.
            var updated = record
            for key in keys {
                let value = "Dump2-\(plugin.name)-\(key)-\(UUID().uuidString.prefix(6))"
                updated.config[key] = .string(value)
                secrets.append(value)
            }
            // The update made for an operator: audited on this backend too, its secrets masked.
            let operatorActor = AuditActor(identity: Identity(name: "dump-test", role: .admin), address: "cli", source: "cli")
            try await AuditActor.$current.withValue(operatorActor) { try await host.store.updateInstance(updated) }
            #expect(try await host.store.instance(id: id)?.config == updated.config, "the store gives the clear values back")
            var q = AuditQuery()
            q.target = id
            let entries = try await host.store.audit(q)
            #expect(entries.count == 1 && entries.first?.actor == "dump-test" && entries.first?.action == "instance.update", "\(entries)")
            #expect(keys.allSatisfy { entries.first?.before?["config"]?[$0] == "***" && entries.first?.after?["config"]?[$0] == "***" })
            ids.append(id)
        }
        #expect(ids.count >= 4, "the in-tree plugins have secret keys (\(ids.count))")
        switch backend {
        case .sqlite:
            let path = try #require((store as? SQLStore)?.executor as? SQLiteExecutor).path
            #expect(try Self.files(in: URL(fileURLWithPath: path).deletingLastPathComponent(), containing: secrets).isEmpty)
        case .postgres:
            let dump = try await runProcess(try Self.pgDump(), ["--data-only", try Backend.postgresURL()])
            #expect(dump.status == 0, "\(dump.stderr)")
            #expect(ids.allSatisfy(dump.stdout.contains) && dump.stdout.contains(SecretSealer.prefix), "the dump has the instances, sealed")
            let leaked = secrets.filter(dump.stdout.contains)
            #expect(leaked.isEmpty, "in the dump: \(leaked)")
        }
        for id in ids { try await host.store.deleteInstance(id: id, purgeData: true, now: Date()) }
    }

    /// pg_dump of the server `scripts/postgres.sh` installed (its version's bin directory).
    static func pgDump() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        guard let v = versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }).first(where: { FileManager.default.isExecutableFile(atPath: "\(root)/\($0)/bin/pg_dump") }) else {
            throw HostError.unavailable("pg_dump not found under \(root): `make test` installs PostgreSQL with it")
        }
        return "\(root)/\(v)/bin/pg_dump"
    }
}
