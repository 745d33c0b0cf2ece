import Foundation
import Logging
import Testing

@testable import Host

/// What this test process may use. `swift test` alone runs only what needs nothing outside the build; under
/// `make test` (SYNCHOST_TEST_ALL=1) or CI (CI=true) every test runs, and one whose server, browser or tool is
/// missing fails with the reason — it is never skipped.
enum TestEnvironment {
    static let all: Bool = {
        let env = ProcessInfo.processInfo.environment
        return env["SYNCHOST_TEST_ALL"] == "1" || env["CI"] == "true"
    }()

    /// Said once per process, when the first test that needs something external is skipped.
    static let announceSkips: Void = {
        FileHandle.standardError.write(Data("""
            note: `swift test` alone skips the tests that need PostgreSQL, Chromium, aiosmtpd, schemathesis or child \
            processes of the host (end-to-end); `make test` runs all of them and fails on anything missing.\n
            """.utf8))
    }()
}

/// Something outside the Swift build a test needs.
enum External: String, CustomStringConvertible, Sendable {
    case postgres = "PostgreSQL (SYNCHOST_TEST_POSTGRES_URL)"
    case chromium = "Chromium and chromium-driver"
    case python = "the test venv's Python (aiosmtpd, selenium, schemathesis)"
    case endToEnd = "end-to-end runs of the synchost binary"

    var description: String { rawValue }

    /// Whether tests needing it run in this process: always under `make test`/CI (a missing tool then fails the
    /// test), never under a bare `swift test`.
    var runs: Bool {
        if TestEnvironment.all { return true }
        TestEnvironment.announceSkips
        return false
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test under `make test` and CI; a bare `swift test` skips it (and says so once).
    static func needs(_ what: External) -> Self {
        .enabled(if: what.runs, "needs \(what); run `make test`")
    }
}

/// The backends every store test runs against: SQLite always; PostgreSQL under `make test` and CI, where a
/// missing server fails the test.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    static var available: [Backend] { External.postgres.runs ? [.sqlite, .postgres] : [.sqlite] }

    var testDescription: String { rawValue }

    /// The backend's store — and proof that it is that backend.
    func open() async throws -> any HostDatabase {
        let store: any HostDatabase
        switch self {
        case .sqlite:
            store = try await openSQLite(try temporaryDirectory("store").appendingPathComponent("test.db").path)
        case .postgres:
            store = try await SharedPostgres.shared.store()
        }
        try #require(store.backend == (self == .sqlite ? "sqlite" : "postgresql"), "asked for \(self), got \(store.backend)")
        return store
    }

    /// The PostgreSQL URL `make test` started a server for; a test that needs it fails without it.
    static func postgresURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["SYNCHOST_TEST_POSTGRES_URL"], !url.isEmpty else {
            throw HostError.unavailable("SYNCHOST_TEST_POSTGRES_URL is not set: `make test` starts PostgreSQL and sets it")
        }
        guard case .postgres = try DatabaseLocation(parsing: url) else {
            throw HostError.invalid("SYNCHOST_TEST_POSTGRES_URL is not a PostgreSQL URL: \(url.debugDescription)")
        }
        return url
    }
}

/// One PostgreSQL store (one connection pool) for the whole test process: a pool per test would exhaust the
/// server's connection limit. Tests stay apart through fresh instance ids.
actor SharedPostgres {
    static let shared = SharedPostgres()
    private var opened: (any HostDatabase)?

    func store() async throws -> any HostDatabase {
        if let opened { return opened }
        let s = try await StoreFactory.open(try Backend.postgresURL(), logger: Logger(label: "test"), secretKeys: .ring(testSecretKeys))
        // Proof of the backend from the server itself, not from the URL.
        let version = try await s.executor.read { try await $0.one("SELECT version()")?.text(0) ?? "" }
        try #require(version.hasPrefix("PostgreSQL"), "the PostgreSQL URL answered \(version.debugDescription)")
        opened = s
        return s
    }
}

/// The secret key of the test PostgreSQL databases (they outlive a test run, so the key is fixed; the benchmarks
/// use it too), as `SYNCHOST_SECRET_KEY` holds it for a replica.
let testSecretKeys = try! SecretKeyRing.load(file: Build.packageRoot.appendingPathComponent("Tests/Fixtures/postgres-secret.key"))!
let testSecretKeyText = testSecretKeys.environmentText

/// An SQLite store on a file.
func openSQLite(_ path: String) async throws -> SQLStore {
    try await StoreFactory.open(.sqlite(path: path), logger: Logger(label: "test"))
}
