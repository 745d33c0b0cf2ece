import AsyncHTTPClient
import Foundation
import Logging

/// The assembled kernel: host services, and the plugins loaded against them.
public final class Kernel: Sendable {
    public let router: ServiceRouter
    public let registry: PluginRegistry
    public let logger: Logger

    public init(pluginDirectory: URL, logger: Logger, httpClient: HTTPClient = .shared) {
        self.logger = logger
        let fetch = FetchService(client: httpClient, logger: logger)
        router = ServiceRouter(logger: logger, fetch: fetch)
        registry = PluginRegistry(directory: pluginDirectory, router: router, logger: logger)
    }
}
