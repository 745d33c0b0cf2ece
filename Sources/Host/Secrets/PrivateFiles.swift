import Foundation
import Logging

/// Files that must stay private to the host's user: the database and its WAL, the key file, the admin token.
enum PrivateFiles {
    /// The files among `paths` that exist and that other users may read or write, with their mode.
    static func exposed(_ paths: [String]) -> [(path: String, mode: Int)] {
        paths.compactMap { path in
            guard let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, mode & 0o077 != 0 else { return nil }
            return (path, mode)
        }
    }

    /// A warning per exposed file, saying how to fix it.
    static func warn(_ paths: [String], logger: Logger) {
        for (path, mode) in exposed(paths) {
            logger.warning("\(path) is readable by other users (mode \(String(mode, radix: 8))): chmod 600 \(path)")
        }
    }

    /// The database's own files when it is SQLite, the key file when there is one.
    static func of(location: String, keyRing: SecretKeyRing?, dataDirectory: URL) -> [String] {
        var paths = [dataDirectory.appendingPathComponent("admin-token").path]
        if case .sqlite(let db)? = try? DatabaseLocation(parsing: location) { paths += [db, db + "-wal", db + "-shm"] }
        if case .file(let key)? = keyRing?.origin { paths.append(key) }
        return paths
    }
}
