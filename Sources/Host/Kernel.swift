import AsyncHTTPClient
import Foundation
import Logging
import Synchronization

/// The assembled kernel: host services, and the plugins loaded against them.
public final class Kernel: Sendable {
    public let router: ServiceRouter
    public let registry: PluginRegistry
    public let logger: Logger
    public let store: (any HostDatabase)?
    /// Present with a store: runs jobs and records them.
    public let runner: JobRunner?
    /// Present with a store; started by `serve` (or a test), not by construction.
    public let scheduler: Scheduler?
    public let instances: InstanceManager?
    /// Present with a store; started with the scheduler.
    public let outbox: OutboxDispatcher?
    /// What happens in this host, for the console's live stream; and how far each running run is.
    public let events: EventBus
    public let progress: RunProgress

    public init(
        pluginDirectory: URL, logger: Logger, httpClient: HTTPClient = .shared,
        store: (any HostDatabase)? = nil, storeService: (any HostService)? = nil,
        notify: (any HostService)? = nil, defaultTimeZone: String = "UTC", schedulerLease: Duration = .seconds(60),
        schedulerOwner: String = Scheduler.defaultOwner(), schedulerMaxIdle: Duration = .seconds(30),
        maxConcurrentRuns: Int = Scheduler.defaultMaxConcurrentRuns,
        outboxRetryBase: Duration = .seconds(5), outboxMaxAttempts: Int = 5,
        clock: @escaping HostClock = HostClocks.system, isolation: IsolationPolicy = IsolationPolicy(),
        defaultSchedulesEnabled: Bool = true
    ) {
        self.logger = logger
        self.store = store
        let events = EventBus()
        let progress = RunProgress()
        self.events = events
        self.progress = progress
        let fetch = FetchService(client: httpClient, logger: logger)
        // The registry is created after the router; the store service looks plugins up through this box.
        let registryBox = RegistryBox()
        let service = storeService ?? store.map { s in
            StoreHostService(store: s, collectionsOf: { plugin in
                registryBox.registry?.plugin(named: plugin).map { Set($0.manifest.collections.map(\.name)) }
            }, clock: clock, events: events)
        }
        let managerBox = ManagerBox()
        let schedule: (any HostService)? = store == nil ? nil : ScheduleHostService(instances: { managerBox.manager }, progress: progress, events: events)
        let outboxBox = OutboxBox()
        let notifyService = notify ?? store.map { s in
            NotifyHostService(store: s, registry: { registryBox.registry }, maxAttempts: outboxMaxAttempts, wake: { outboxBox.outbox?.wake() },
                              events: events, clock: clock)
        }
        // Config values the manifests mark secret are sealed before the store writes them.
        store?.knowSecretKeys { plugin in
            registryBox.registry?.plugin(named: plugin).map { Set($0.manifest.config.filter(\.secret).map(\.key)) }
        }
        router = ServiceRouter(logger: logger, fetch: fetch, store: service, schedule: schedule, notify: notifyService)
        let registry = PluginRegistry(directory: pluginDirectory, router: router, logger: logger, events: events, isolation: isolation)
        self.registry = registry
        registryBox.registry = registry
        let outbox = store.map {
            OutboxDispatcher(store: $0, registry: registry, logger: logger, owner: schedulerOwner, retryBase: outboxRetryBase, maxAttempts: outboxMaxAttempts,
                             clock: clock, events: events)
        }
        self.outbox = outbox
        outboxBox.outbox = outbox
        if let store {
            let runner = JobRunner(registry: registry, store: store, logger: logger, clock: clock, events: events, progress: progress)
            let scheduler = Scheduler(store: store, runner: runner, logger: logger, owner: schedulerOwner, lease: schedulerLease,
                                      maxConcurrentRuns: maxConcurrentRuns, maxIdle: schedulerMaxIdle, defaultTimeZone: defaultTimeZone, clock: clock)
            self.runner = runner
            self.scheduler = scheduler
            instances = InstanceManager(store: store, registry: registry, scheduler: scheduler, defaultTimeZone: defaultTimeZone, logger: logger, clock: clock,
                                        defaultSchedulesEnabled: defaultSchedulesEnabled)
            managerBox.manager = instances
        } else {
            runner = nil
            scheduler = nil
            instances = nil
        }
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

final class OutboxBox: Sendable {
    private let value = Mutex<OutboxDispatcher?>(nil)
    var outbox: OutboxDispatcher? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}

final class ManagerBox: Sendable {
    private let value = Mutex<InstanceManager?>(nil)
    var manager: InstanceManager? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
