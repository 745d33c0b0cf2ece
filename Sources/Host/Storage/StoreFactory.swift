import Foundation
import Logging

/// Where the host's database is, as the operator wrote it. Exactly three forms are accepted, so a stray line of
/// output captured as a "URL" is refused instead of silently becoming an SQLite file of that name.
public enum DatabaseLocation: Equatable, Sendable {
    case sqlite(path: String)
    case postgres(url: String)

    public static let acceptedForms = "a postgres:// or postgresql:// URL, sqlite:PATH, or a plain file path"

    public init(parsing text: String) throws {
        if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw HostError.invalid("database: \(text.debugDescription) contains control characters; give \(Self.acceptedForms)")
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(url: text)
            return
        }
        let path = text.hasPrefix("sqlite:") ? String(text.dropFirst("sqlite:".count)) : text
        guard !path.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw HostError.invalid("database: empty path; give \(Self.acceptedForms)")
        }
        if let scheme = path.range(of: "://"), !path[..<scheme.lowerBound].contains("/") {
            throw HostError.invalid("database: unsupported URL scheme \(String(path[..<scheme.lowerBound]).debugDescription); give \(Self.acceptedForms)")
        }
        self = .sqlite(path: path)
    }
}

/// Opens the database a location names, applying pending migrations.
public enum StoreFactory {
    public static func open(_ location: String, logger: Logger, secretKeys: SecretKeySource = .standard()) async throws -> SQLStore {
        try await open(DatabaseLocation(parsing: location), logger: logger, secretKeys: secretKeys)
    }

    /// `secretKeys`: the key ring that seals secret config values (see `SecretKeySource`); a key that does not
    /// open this database's secrets is refused before anything is written.
    public static func open(_ location: DatabaseLocation, logger: Logger, secretKeys: SecretKeySource = .standard()) async throws -> SQLStore {
        let executor: any SQLExecutor
        switch location {
        case .postgres(let url):
            executor = try PostgresExecutor.connect(url: url, logger: logger)
        case .sqlite(let path):
            // Opening a file blocks: off the concurrency pool.
            executor = try await offPool { try SQLiteExecutor(path: path) }
        }
        let store = SQLStore(executor: executor)
        do {
            try await store.migrate()
            try await store.attachSecrets(secretKeys, location: location)
        } catch {
            await store.close()
            throw error
        }
        return store
    }
}
