import AsyncHTTPClient
import Foundation
import Logging
import Synchronization

/// The assembled kernel: host services, and the plugins loaded against them.
public final class Kernel: Sendable {
    public let router: ServiceRouter
    public let registry: PluginRegistry
    public let logger: Logger
    public let store: (any Store)?

    public init(
        pluginDirectory: URL, logger: Logger, httpClient: HTTPClient = .shared,
        store: (any Store)? = nil, storeService: (any HostService)? = nil,
        schedule: (any HostService)? = nil, notify: (any HostService)? = nil
    ) {
        self.logger = logger
        self.store = store
        let fetch = FetchService(client: httpClient, logger: logger)
        // The registry is created after the router; the store service looks plugins up through this box.
        let registryBox = RegistryBox()
        let service = storeService ?? store.map { s in
            StoreHostService(store: s) { plugin in
                registryBox.registry?.plugin(named: plugin).map { Set($0.manifest.collections.map(\.name)) }
            }
        }
        router = ServiceRouter(logger: logger, fetch: fetch, store: service, schedule: schedule, notify: notify)
        registry = PluginRegistry(directory: pluginDirectory, router: router, logger: logger)
        registryBox.registry = registry
    }
}

/// Set once, right after the registry exists.
final class RegistryBox: Sendable {
    private let value = Mutex<PluginRegistry?>(nil)
    var registry: PluginRegistry? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
