import PluginABI

/// An error that crosses the boundary: a status the other side can act on, plus a message for people.
public struct PluginError: Error, Sendable, Equatable, CustomStringConvertible, Codable {
    public enum Kind: String, Sendable, Codable {
        /// Malformed request or unknown name: fix the call.
        case invalid
        case notFound = "not_found"
        /// The service or operation is not available in this host or plugin.
        case unavailable
        /// The upstream failed (network, HTTP status, protocol error); a retry may help.
        case upstream
        /// Configuration or permission problem: retrying will not help.
        case config
        case cancelled
        case `internal`
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }

    enum CodingKeys: String, CodingKey {
        case kind = "code"
        case message
    }

    public var status: Int32 {
        switch kind {
        case .invalid: Int32(SH_ERR_INVALID.rawValue)
        case .notFound: Int32(SH_ERR_NOT_FOUND.rawValue)
        case .unavailable: Int32(SH_ERR_UNAVAILABLE.rawValue)
        case .upstream: Int32(SH_ERR_UPSTREAM.rawValue)
        case .config: Int32(SH_ERR_CONFIG.rawValue)
        case .cancelled: Int32(SH_ERR_CANCELLED.rawValue)
        case .internal: Int32(SH_ERR_INTERNAL.rawValue)
        }
    }

    /// Rebuilds the error the other side reported with `status` and its JSON error body.
    public init(status: Int32, body: [UInt8]) {
        let kind: Kind =
            switch UInt32(bitPattern: status) {
            case SH_ERR_INVALID.rawValue: .invalid
            case SH_ERR_NOT_FOUND.rawValue: .notFound
            case SH_ERR_UNAVAILABLE.rawValue: .unavailable
            case SH_ERR_UPSTREAM.rawValue: .upstream
            case SH_ERR_CONFIG.rawValue: .config
            case SH_ERR_CANCELLED.rawValue: .cancelled
            default: .internal
            }
        if let decoded = try? WireJSON.decode(PluginError.self, from: body) {
            self.init(kind, decoded.message)
        } else {
            self.init(kind, String(decoding: body, as: UTF8.self))
        }
    }

    /// Any error as a boundary error: CancellationError becomes `.cancelled`, others `.internal`.
    public static func wrapping(_ error: any Error) -> PluginError {
        if let e = error as? PluginError { return e }
        if error is CancellationError { return PluginError(.cancelled, "cancelled") }
        return PluginError(.internal, String(describing: error))
    }

    public var jsonBody: [UInt8] { (try? WireJSON.encode(self)) ?? Array(message.utf8) }
}
