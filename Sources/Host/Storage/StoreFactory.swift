import Foundation
import Logging

/// Opens the store a URL names: a path or `sqlite:PATH` for the embedded default, `postgres://...` for the
/// scale-out backend.
public enum StoreFactory {
    public static func open(_ location: String, logger: Logger) async throws -> any ScheduleStore {
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            return try await PostgresStore.connect(url: location, logger: logger)
        }
        let path = location.hasPrefix("sqlite:") ? String(location.dropFirst("sqlite:".count)) : location
        guard !path.isEmpty else { throw HostError.invalid("database: empty path") }
        return try SQLiteStore(path: path)
    }
}
