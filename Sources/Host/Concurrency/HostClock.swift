import Foundation

/// The host's source of "now". Every component that decides by time (scheduler, leases, outbox retries,
/// cache lifetimes, run timestamps) takes one, so tests move time instead of waiting for it.
public typealias HostClock = @Sendable () -> Date

public enum HostClocks {
    public static let system: HostClock = { Date() }
}
