import Foundation

/// Where a store's secret key ring comes from.
public enum SecretKeySource: Sendable {
    /// `SYNCHOST_SECRET_KEY` (base64 keys, comma-separated, newest first), else the file `SYNCHOST_SECRET_KEY_FILE`
    /// names, else `file` — by default, for SQLite, `<database>.key` beside the database. A file that does not
    /// exist yet is created (mode 0600) for a database that has no secrets sealed yet.
    case standard(file: URL? = nil)
    /// This ring, whatever the environment says (tests; tools).
    case ring(SecretKeyRing)

    public static let environmentKey = "SYNCHOST_SECRET_KEY"
    public static let environmentFile = "SYNCHOST_SECRET_KEY_FILE"

    /// The ring when it is given outright, and otherwise the key file to read (or create).
    func resolve(for location: DatabaseLocation, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (SecretKeyRing?, URL?) {
        switch self {
        case .ring(let ring):
            return (ring, nil)
        case .standard(let file):
            if let keys = environment[Self.environmentKey], !keys.isEmpty {
                return (try SecretKeyRing.parse(keys, origin: .environment), nil)
            }
            if let path = environment[Self.environmentFile], !path.isEmpty { return (nil, URL(fileURLWithPath: path)) }
            if let file { return (nil, file) }
            switch location {
            case .sqlite(let path): return (nil, URL(fileURLWithPath: path + ".key"))
            case .postgres:
                throw HostError.invalid("PostgreSQL: every replica needs the same secret key: set SYNCHOST_SECRET_KEY or SYNCHOST_SECRET_KEY_FILE")
            }
        }
    }
}
