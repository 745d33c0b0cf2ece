import Foundation
import PluginAPI
import Synchronization

/// The host's events, kept in a bounded buffer (the latest `capacity`) and handed to each subscriber's own
/// bounded stream. Publishing never waits: a subscriber too slow for its buffer loses the oldest events it had
/// not read, sees the gap in the ids and is told to reload.
public final class EventBus: Sendable {
    public static let capacity = 1024
    /// Per subscriber, between the bus and its connection.
    static let subscriberBuffer = 512
    static let maxSubscribers = 64

    public struct Subscription: Sendable {
        /// Buffered events after the id the subscriber gave.
        public let replay: [HostEvent]
        /// False when some events after that id are no longer buffered (or the id is from another run of the host).
        public let complete: Bool
        public let events: AsyncStream<HostEvent>
        let key: Int
    }

    private struct State {
        var nextID: Int64
        var ring: [HostEvent] = []
        var oldest = 0
        var subscribers: [Int: AsyncStream<HostEvent>.Continuation] = [:]
        var nextSubscriber = 0
    }

    private let state: Mutex<State>
    /// The id the first event of this process gets.
    public let firstID: Int64

    public init(firstID: Int64 = Int64(Date().timeIntervalSince1970 * 1_000_000)) {
        self.firstID = firstID
        state = Mutex(State(nextID: firstID))
    }

    public func publish(_ type: String, _ data: JSONValue) {
        state.withLock { s in
            let event = HostEvent(id: s.nextID, type: type, data: data)
            s.nextID += 1
            if s.ring.count < Self.capacity {
                s.ring.append(event)
            } else {
                s.ring[s.oldest] = event
                s.oldest = (s.oldest + 1) % Self.capacity
            }
            for c in s.subscribers.values { c.yield(event) }
        }
    }

    /// The buffered events after `lastID` (none for nil: a new subscriber starts from now) and those that follow.
    /// Nil when the host already serves `maxSubscribers` streams.
    public func subscribe(after lastID: Int64?) -> Subscription? {
        let (stream, continuation) = AsyncStream<HostEvent>.makeStream(bufferingPolicy: .bufferingOldest(Self.subscriberBuffer))
        let result: Subscription? = state.withLock { s in
            guard s.subscribers.count < Self.maxSubscribers else { return nil }
            let key = s.nextSubscriber
            s.nextSubscriber += 1
            s.subscribers[key] = continuation
            continuation.onTermination = { [weak self] _ in self?.unsubscribe(key) }
            guard let lastID else { return Subscription(replay: [], complete: true, events: stream, key: key) }
            let ordered = Array(s.ring[s.oldest...] + s.ring[..<s.oldest])
            let replay = ordered.filter { $0.id > lastID }
            // Complete when the id is this host's and the event right after it is still here (or none came since).
            let oldestKept = ordered.first?.id ?? s.nextID
            let complete = lastID >= firstID - 1 && lastID < s.nextID && lastID + 1 >= oldestKept
            return Subscription(replay: complete ? replay : [], complete: complete, events: stream, key: key)
        }
        if result == nil { continuation.finish() }
        return result
    }

    /// Puts a keep-alive (id 0) in one subscriber's stream: an idle connection is written to now and then, so
    /// proxies keep it and a client that went away is noticed.
    func keepAlive(_ subscription: Subscription) {
        state.withLock { s in _ = s.subscribers[subscription.key]?.yield(HostEvent(id: 0, type: "", data: .null)) }
    }

    private func unsubscribe(_ key: Int) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: key) }
    }

    var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// The id the next event will get.
    var nextID: Int64 { state.withLock { $0.nextID } }
}
