import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /api/v1/events`: the host's events as server-sent events (`text/event-stream`), for the console and any
/// other client. Resumable: a client that reconnects with `Last-Event-ID` (or `?last_event_id=`) first gets the
/// buffered events it missed; when they are no longer buffered — or the id is from before a restart — it gets
/// one `reset` event and should reload what it shows. Events are this host's: with several replicas, each
/// streams its own runs.
struct EventRoutes {
    let bus: EventBus
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
    static let keepAliveInterval: Duration = .seconds(15)

    func add(to api: RouterGroup<AdminRequestContext>) {
        api.get("events") { request, _ -> Response in
            let raw = request.headers[Self.lastEventID] ?? request.uri.queryParameters.get("last_event_id").map { String($0) }
            var last: Int64?
            if let raw, !raw.isEmpty {
                guard let id = Int64(raw) else { throw APIError(.badRequest, "invalid_event_id", "Last-Event-ID must be an event id (a number), not \(raw.debugDescription)") }
                last = id
            }
            guard let subscription = bus.subscribe(after: last) else {
                throw APIError(.serviceUnavailable, "too_many_streams", "this host already serves \(EventBus.maxSubscribers) event streams")
            }
            let bus = self.bus
            let headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no"]
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                let keepAlive = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: Self.keepAliveInterval)
                        bus.keepAlive(subscription)
                    }
                }
                defer { keepAlive.cancel() }
                // A retry hint and a first line at once, so the client knows the stream is up.
                var head = "retry: 3000\n: synchost events\n\n"
                if !subscription.complete { head += "event: reset\ndata: {\"next\":\(bus.nextID)}\n\n" }
                for e in subscription.replay { head += e.frame }
                try await writer.write(ByteBuffer(string: head))
                var previous = subscription.replay.last?.id
                for await event in subscription.events {
                    // The subscriber's buffer overflowed: some events were dropped, so the client must reload.
                    if event.id != 0, let p = previous, event.id != p + 1 {
                        try await writer.write(ByteBuffer(string: "event: reset\ndata: {\"next\":\(event.id)}\n\n"))
                    }
                    if event.id != 0 { previous = event.id }
                    try await writer.write(ByteBuffer(string: event.frame))
                }
                try await writer.finish(nil)
            })
        }
    }
}
