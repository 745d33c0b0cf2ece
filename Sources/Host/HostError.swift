/// Errors of the kernel that an operator or API client sees; each maps to one HTTP status.
public enum HostError: Error, Sendable, CustomStringConvertible, Equatable {
    case invalid(String)
    case notFound(String)
    case conflict(String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .invalid(let m), .notFound(let m), .conflict(let m), .unavailable(let m): m
        }
    }

    public var code: String {
        switch self {
        case .invalid: "invalid"
        case .notFound: "not_found"
        case .conflict: "conflict"
        case .unavailable: "unavailable"
        }
    }
}
