import Foundation
import Logging
import PluginAPI

/// Delivers the outbox: claims due notifications (leased, so replicas on one PostgreSQL never deliver the
/// same one twice at once), hands each to its channel's notifier plugin and records the outcome —
/// sent; failed and retried with exponential backoff; dead after `maxAttempts` or when the channel refuses
/// for good (the channel is then disabled with the reason); unknown when the channel cannot tell (never
/// retried blindly). A host that dies mid-delivery leaves a lease that expires; the notification is then
/// delivered again (at-least-once), except by channels that report unknown outcomes.
public actor OutboxDispatcher {
    let store: any HostDatabase
    let registry: PluginRegistry
    let logger: Logger
    let owner: String
    public let retryBase: Duration
    public let maxAttempts: Int
    let lease: Duration
    let clock: HostClock
    /// Told of each delivery's outcome (the console's live stream).
    public let events: EventBus
    private var task: Task<Void, Never>?
    private let wakeup = Wakeup()
    /// The dispatcher's own thread (see `Scheduler.executor`).
    let executor = ThreadExecutor(label: "synchost.outbox")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public init(store: any HostDatabase, registry: PluginRegistry, logger: Logger, owner: String,
                retryBase: Duration = .seconds(5), maxAttempts: Int = 5, lease: Duration = .seconds(120), clock: @escaping HostClock = HostClocks.system,
                events: EventBus = EventBus()) {
        self.clock = clock
        self.events = events
        self.store = store
        self.registry = registry
        self.logger = logger
        self.owner = owner
        self.retryBase = retryBase
        self.maxAttempts = maxAttempts
        self.lease = lease
    }

    public func start() {
        guard task == nil else { return }
        task = Task(executorPreference: executor) { await self.loop() }
    }

    public func stop() async {
        task?.cancel()
        wakeup.wake()
        task = nil
    }

    /// A notification was queued (or the host is stopping): look now.
    public nonisolated func wake() { wakeup.wake() }

    private func loop() async {
        while !Task.isCancelled {
            var delivered = 0
            do {
                delivered = try await pass()
                HostMetrics.outboxDepth(try await store.outboxDepth())
            } catch {
                logger.error("outbox: \(error)")
            }
            if delivered == 0 { await wakeup.sleep(.milliseconds(500)) }
        }
    }

    /// Claims and delivers one batch; returns how many were attempted.
    func pass() async throws -> Int {
        let now = clock()
        let due = try await store.claimDueNotifications(now: now, owner: owner, leaseUntil: now.addingTimeInterval(lease.seconds), limit: 20)
        await withTaskGroup(of: Void.self) { group in
            // Channels deliver concurrently; one channel's messages go in order.
            for batch in Dictionary(grouping: due, by: \.channel).values {
                group.addTask { for n in batch.sorted(by: { $0.createdAt < $1.createdAt }) { await self.deliver(n) } }
            }
        }
        return due.count
    }

    func deliver(_ claimed: OutboxNotification) async {
        var n = claimed
        n.attempts += 1
        n.leaseOwner = nil
        n.leaseExpiresAt = nil
        do {
            guard let channel = try await store.instance(id: n.channel) else { throw Refusal("channel \(n.channel.debugDescription) does not exist") }
            guard channel.enabled else { throw Refusal("channel \(n.channel) is disabled") }
            guard let plugin = registry.plugin(named: channel.plugin), plugin.manifest.kind == .notifier else {
                throw Refusal("channel \(n.channel): plugin \(channel.plugin) is not a loaded notifier")
            }
            let secrets = ConfigSchema.secretValues(channel.config, keys: plugin.manifest.config)
            let receipt: DeliveryReceipt
            do {
                receipt = try await plugin.invoke(
                    PluginOperation.send, SendRequest(instance: channel.info, message: plugin.abiMinor >= 5 ? n.message : n.message.withoutAttachments,
                                                      notificationID: n.id), as: DeliveryReceipt.self,
                    context: SessionContext(plugin: plugin.name, instance: channel.info, secrets: secrets), timeout: .seconds(90))
            } catch let e as PluginError where e.kind == .config {
                // The channel refuses for good (bad key, robot removed, disabled): stop using it, say why.
                var disabled = channel
                disabled.enabled = false
                disabled.updatedAt = clock()
                try? await store.updateInstance(disabled)
                logger.error("outbox: channel \(channel.id) disabled: \(SecretMasker.redact(e.message, secrets: secrets))")
                throw Refusal("channel disabled: \(SecretMasker.redact(e.message, secrets: secrets))")
            } catch let e as PluginError where e.kind == .invalid {
                // This message can never be delivered as it is (no valid recipient, refused content).
                throw Refusal(SecretMasker.redact(e.message, secrets: secrets))
            } catch let e as PluginError {
                throw Retryable(SecretMasker.redact(e.message, secrets: secrets))
            }
            n.detail = receipt.detail.map { SecretMasker.redact($0, secrets: secrets) }
            switch receipt.outcome {
            case "unknown":
                n.state = .unknown
                n.lastError = n.detail ?? "outcome unknown"
            default:
                n.state = .sent
                n.sentAt = clock()
                n.lastError = nil
            }
        } catch let r as Refusal {
            n.state = .dead
            n.lastError = r.message
        } catch {
            let message = (error as? Retryable)?.message ?? "\(error)"
            n.lastError = message
            if n.attempts >= n.maxAttempts {
                n.state = .dead
            } else {
                n.state = .failed
                let backoff = retryBase.seconds * pow(2, Double(n.attempts - 1))
                n.nextAttemptAt = clock().addingTimeInterval(backoff)
            }
        }
        n.updatedAt = clock()
        HostMetrics.notificationFinished(state: n.state.rawValue)
        do { try await store.updateNotification(n) } catch { logger.error("outbox: cannot record \(n.id): \(error)") }
        let type = switch n.state {
        case .sent: HostEvent.notificationSent
        case .dead: HostEvent.notificationDead
        default: HostEvent.notificationRetrying
        }
        events.publish(type, ["id": .string(n.id), "channel": .string(n.channel), "attempts": .int(Int64(n.attempts)),
                              "error": n.lastError.map(JSONValue.string) ?? .null])
        if n.state != .sent { logger.warning("outbox: \(n.id) to \(n.channel) \(n.state.rawValue) after attempt \(n.attempts): \(n.lastError ?? "")") }
    }

    struct Refusal: Error {
        let message: String
        init(_ m: String) { message = m }
    }

    struct Retryable: Error {
        let message: String
        init(_ m: String) { message = m }
    }
}
