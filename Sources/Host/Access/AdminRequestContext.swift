import Hummingbird
import NIOCore

/// The admin API's request context: Hummingbird's core, plus the client's address (failed sign-ins are counted
/// per address) and who the request acts for once the bearer token has been checked.
public struct AdminRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// Set by `AccessMiddleware`.
    public var identity: Identity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address as text ("unknown" when the channel has none, e.g. a Unix socket).
    var clientAddress: String { remoteAddress?.ipAddress ?? "unknown" }
}
