import Foundation
import Hummingbird
import Logging
import Synchronization

/// Runs a simulator's router on loopback until stopped: used by the integration tests, the benchmarks and
/// `synchost demo`. Port 0 picks a free port; `start` returns once the server is listening.
public final class SimulatorServer: Sendable {
    public let name: String
    private let task = Mutex<Task<Void, any Error>?>(nil)
    private let boundPort = Mutex<Int?>(nil)

    public init(name: String) { self.name = name }

    public var port: Int { boundPort.withLock { $0 } ?? 0 }
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    @discardableResult
    public func start(router: Router<BasicRequestContext>, host: String = "127.0.0.1", port: Int = 0) async throws -> Int {
        var logger = Logger(label: "simulator.\(name)")
        logger.logLevel = .critical  // stopping logs a CancellationError at error level
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: name),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? port)
                continuation.finish()
            },
            logger: logger)
        let t = Task { try await app.run() }
        task.withLock { $0 = t }
        for await p in stream {
            boundPort.withLock { $0 = p }
            return p
        }
        throw CancellationError()
    }

    public func stop() {
        task.withLock { $0?.cancel(); $0 = nil }
    }

    deinit { task.withLock { $0?.cancel() } }
}

/// Deterministic pseudo-randomness: the same seed always gives the same upstream data.
public enum SimRandom {
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476C_F1CE_5B9B
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 { mix(a ^ mix(b)) }

    /// FNV-1a of a string: the same in every process (Swift's `hashValue` is seeded per process).
    public static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}

/// Request counting and the "fail the k-th request" knob shared by every simulator.
public final class RequestCounter: Sendable {
    private let state = Mutex<(count: Int, failAt: Set<Int>)>((0, []))
    public init() {}

    /// Counts one request; true when this one is to fail.
    public func next() -> (index: Int, fail: Bool) {
        state.withLock { s in
            s.count += 1
            return (s.count, s.failAt.remove(s.count) != nil)
        }
    }

    public var count: Int { state.withLock { $0.count } }

    /// Fails the request `k` requests from now (1 = the next one).
    public func failIn(_ k: Int) { state.withLock { $0.failAt.insert($0.count + k) } }
}
