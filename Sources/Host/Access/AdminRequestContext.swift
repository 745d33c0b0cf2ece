import Hummingbird
import NIOCore

/// The admin API's request context: Hummingbird's core, plus the client's address (failed sign-ins are counted
/// per address) and who the request acts for once the bearer token has been checked.
public struct AdminRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection; its peer address is read only when a request needs it (a failed sign-in, an audited change).
    let channel: any Channel
    public var remoteAddress: SocketAddress? { channel.remoteAddress }
    /// Set by `AccessMiddleware`.
    public var identity: Identity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The client's IP address as text ("unknown" when the channel has none, e.g. a Unix socket).
    var clientAddress: String { remoteAddress?.ipAddress ?? "unknown" }
}
