import AsyncHTTPClient
import Foundation
import Logging

/// The assembled kernel: host services, and the plugins loaded against them.
public final class Kernel: Sendable {
    public let router: ServiceRouter
    public let registry: PluginRegistry
    public let logger: Logger

    public init(
        pluginDirectory: URL, logger: Logger, httpClient: HTTPClient = .shared,
        store: (any HostService)? = nil, schedule: (any HostService)? = nil, notify: (any HostService)? = nil
    ) {
        self.logger = logger
        let fetch = FetchService(client: httpClient, logger: logger)
        router = ServiceRouter(logger: logger, fetch: fetch, store: store, schedule: schedule, notify: notify)
        registry = PluginRegistry(directory: pluginDirectory, router: router, logger: logger)
    }
}
