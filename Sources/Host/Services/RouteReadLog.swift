import Foundation
import Synchronization

/// What one plugin route call read from the store, kept by the host while it answers the plugin's service calls,
/// so the call's answer can be reused for as long as the same reads would return the same records
/// (`PluginRouteCache`). Any other service call (a fetch, a write, plugin state, a schedule, a notification)
/// makes the answer depend on something the host cannot re-check: the call is then not reusable.
public final class RouteReadLog: Sendable {
    /// One store read and what it returned.
    struct Read: Sendable {
        var read: StoreRead
        var stamp: ReadStamp
    }

    private let state = Mutex<(reads: [Read], reusable: Bool)>(([], true))

    func recorded(_ read: Read) { state.withLock { $0.reads.append(read) } }

    /// A service call the host cannot repeat to check the answer.
    func unrepeatable() { state.withLock { $0.reusable = false } }

    /// The reads, or nil when the call did something else as well.
    var reads: [Read]? { state.withLock { $0.reusable ? $0.reads : nil } }
}
