import AsyncHTTPClient
import NIOCore
import PluginAPI
import Synchronization

/// Response bodies a plugin reads in pieces (fetch.open / read / close, ABI 1.2): the connection stays with
/// the stream, and the client's backpressure holds the rest of the body on the wire until the plugin asks
/// for it, so neither side ever holds a whole answer. A stream belongs to the session (call) that opened it
/// and ends with it.
final class FetchStreams: Sendable {
    /// Largest piece one read returns, and the default.
    static let maxReadBytes = 16 * 1024 * 1024
    static let defaultReadBytes = 1024 * 1024
    /// Streams one call may hold open at once.
    static let maxPerSession = 16

    /// One body being read. Only one read runs at a time (`busy`, under the table's lock), so the iterator
    /// is never touched concurrently.
    final class Stream: @unchecked Sendable {
        let session: UInt64
        let url: String
        var iterator: HTTPClientResponse.Body.AsyncIterator
        var leftover: ByteBuffer?
        var atEnd = false
        var busy = false

        init(session: UInt64, url: String, body: HTTPClientResponse.Body) {
            self.session = session
            self.url = url
            self.iterator = body.makeAsyncIterator()
        }
    }

    private let table = Mutex<(next: UInt64, open: [UInt64: Stream])>((1, [:]))

    func open(session: UInt64, url: String, body: HTTPClientResponse.Body) throws -> UInt64 {
        try table.withLock { t in
            guard t.open.values.count(where: { $0.session == session }) < Self.maxPerSession else {
                throw PluginError(.invalid, "fetch.open: this call already has \(Self.maxPerSession) streams open; read them to the end or close them")
            }
            let id = t.next
            t.next += 1
            t.open[id] = Stream(session: session, url: url, body: body)
            return id
        }
    }

    /// The next bytes of the stream's body, at most `maxBytes`; empty at the end (and the stream is gone).
    func read(_ id: UInt64, maxBytes: Int, session: UInt64) async throws -> [UInt8] {
        let stream = try table.withLock { t -> Stream in
            guard let s = t.open[id], s.session == session else {
                throw PluginError(.notFound, "fetch.read: no open stream \(id) in this call (read to its end, closed, or opened by another call)")
            }
            guard !s.busy else { throw PluginError(.invalid, "fetch.read: stream \(id) is already being read; read it from one task at a time") }
            s.busy = true
            return s
        }
        var piece: [UInt8] = []
        do {
            while piece.count < maxBytes && !stream.atEnd {
                var chunk: ByteBuffer
                if let left = stream.leftover {
                    chunk = left
                    stream.leftover = nil
                } else if let next = try await stream.iterator.next() {
                    chunk = next
                } else {
                    stream.atEnd = true
                    break
                }
                let room = maxBytes - piece.count
                if chunk.readableBytes > room {
                    if piece.isEmpty { piece.reserveCapacity(maxBytes) }
                    piece.append(contentsOf: chunk.readableBytesView.prefix(room))
                    chunk.moveReaderIndex(forwardBy: room)
                    stream.leftover = chunk
                } else {
                    if piece.isEmpty { piece.reserveCapacity(min(maxBytes, max(chunk.readableBytes, 64 * 1024))) }
                    piece.append(contentsOf: chunk.readableBytesView)
                }
            }
        } catch {
            close(id)
            if error is CancellationError { throw PluginError(.cancelled, "fetch.read: \(stream.url) cancelled") }
            throw PluginError(.upstream, "fetch.read: \(stream.url): the body broke off: \(FetchService.describe(error))")
        }
        // The end is answered once, with no bytes: then the stream is gone.
        if piece.isEmpty && stream.atEnd { close(id) } else { table.withLock { _ in stream.busy = false } }
        return piece
    }

    /// Drops the stream; its connection is closed with it. Closing one that is gone is not an error.
    func close(_ id: UInt64, session: UInt64? = nil) {
        table.withLock { t in
            if let s = t.open[id], session == nil || s.session == session { t.open[id] = nil }
        }
    }

    /// Every stream of a session that ended.
    func closeAll(session: UInt64) {
        table.withLock { t in
            guard !t.open.isEmpty else { return }
            t.open = t.open.filter { $0.value.session != session }
        }
    }

    var openCount: Int { table.withLock { $0.open.count } }
}
