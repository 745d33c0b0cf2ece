import Foundation
import Hummingbird
import SimulatorKit
import Synchronization

/// The remote project service of reference §5: bearer auth (401 + WWW-Authenticate), `GET /api/v1/projects`
/// incremental by `updated_since` (inclusive), sorted by (updated_at, id), paged, with weak ETags and 304;
/// `GET /api/v1/projects/{id}` with strong ETags; tombstones for deleted projects; problem+json errors; 429
/// with Retry-After and 5xx on demand; and `POST /__fake__/projects/{id}` to change a project.
public final class ProjectServiceSimulator: Sendable {
    public struct Project: Sendable, Equatable {
        public var id: String
        public var name: String
        public var type: String
        public var status: String
        public var stage: String
        public var progress: Int
        public var owner: String
        public var updatedAt: Date
        public var version: Int
        public var deleted: Bool

        var json: [String: Any] {
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return ["id": id, "name": name, "type": type, "status": status, "stage": stage, "progress": progress, "owner": owner,
                    "updated_at": f.string(from: updatedAt), "version": version, "deleted": deleted]
        }
    }

    public struct Faults: Sendable {
        /// The next n requests answer 429 with Retry-After: 1.
        public var rateLimited = 0
        /// The next n requests answer 503.
        public var unavailable = 0
        /// Every request answers 503 (an outage).
        public var down = false
        public init() {}
    }

    public let apiToken: String
    public let server = SimulatorServer(name: "projects-sim")
    private let state = Mutex<(projects: [String: Project], faults: Faults, requests: [String: Int])>(([:], Faults(), [:]))

    public static let types = ["presales", "aftersales", "sales"]
    static let statuses = ["not_started", "in_progress", "blocked", "completed"]
    static let stages = ["立项", "调研", "实施", "验收"]

    public init(projects count: Int = 30, apiToken: String = "ps-api-token-123", seed: UInt64 = 5) {
        self.apiToken = apiToken
        let base = Date().addingTimeInterval(-86_400)
        var projects: [String: Project] = [:]
        for i in 0..<count {
            let r = SimRandom.mix(seed, UInt64(i))
            let id = "P-\(1001 + i)"
            projects[id] = Project(id: id, name: "项目\(i)", type: Self.types[i % 3], status: Self.statuses[Int(r % 3)],
                                   stage: Self.stages[Int((r >> 8) % 4)], progress: Int((r >> 16) % 100), owner: "owner\(i % 5)",
                                   updatedAt: base.addingTimeInterval(Double(i) * 60), version: 1, deleted: false)
        }
        state.withLock { $0.projects = projects }
    }

    public var faults: Faults {
        get { state.withLock { $0.faults } }
        set { state.withLock { $0.faults = newValue } }
    }

    public func requests(_ kind: String) -> Int { state.withLock { $0.requests[kind] ?? 0 } }
    public func project(_ id: String) -> Project? { state.withLock { $0.projects[id] } }

    /// Changes a project as the real service would: new version, updated_at now.
    @discardableResult
    public func change(_ id: String, status: String? = nil, stage: String? = nil, progress: Int? = nil, name: String? = nil, deleted: Bool? = nil) -> Project? {
        state.withLock { s in
            guard var p = s.projects[id] else { return nil }
            if let status { p.status = status }
            if let stage { p.stage = stage }
            if let progress { p.progress = progress }
            if let name { p.name = name }
            if let deleted { p.deleted = deleted }
            p.version += 1
            p.updatedAt = max(Date(), p.updatedAt.addingTimeInterval(0.001))
            s.projects[id] = p
            return p
        }
    }

    /// The service stops returning a project at all (purged upstream, no tombstone).
    public func forget(_ id: String) { _ = state.withLock { $0.projects.removeValue(forKey: id) } }

    @discardableResult
    public func start(port: Int = 0) async throws -> String {
        try await server.start(router: router(), port: port)
        return server.baseURL
    }

    public func stop() { server.stop() }

    func problem(_ status: HTTPResponse.Status, _ detail: String, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/problem+json"
        let body: [String: Any] = ["type": "about:blank", "title": status.reasonPhrase, "status": Int(status.code), "detail": detail]
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: body)) ?? Data())))
    }

    func json(_ object: Any, etag: String) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json", .eTag: etag, .cacheControl: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Auth and faults; nil = go on.
    func gate(_ request: Request, _ kind: String) -> Response? {
        let f = state.withLock { s -> Faults in
            s.requests[kind, default: 0] += 1
            let f = s.faults
            if s.faults.rateLimited > 0 { s.faults.rateLimited -= 1 } else if s.faults.unavailable > 0 { s.faults.unavailable -= 1 }
            return f
        }
        if f.down || f.unavailable > 0 && f.rateLimited == 0 { return problem(.serviceUnavailable, "maintenance", headers: [.retryAfter: "1"]) }
        if f.rateLimited > 0 { return problem(.tooManyRequests, "60 requests/min per token", headers: [.retryAfter: "1"]) }
        guard request.headers[.authorization] == "Bearer \(apiToken)" else {
            return problem(.unauthorized, "missing or invalid token", headers: [.wwwAuthenticate: "Bearer realm=\"projects\""])
        }
        return nil
    }

    func router() -> Router<BasicRequestContext> {
        let r = Router()
        r.get("api/v1/projects") { request, _ -> Response in
            if let refused = self.gate(request, "list") { return refused }
            let q = request.uri.queryParameters
            let fmt = ISO8601DateFormatter()
            fmt.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            var since = Date.distantPast
            if let s = q.get("updated_since") {
                guard let d = fmt.date(from: s) ?? ISO8601DateFormatter().date(from: s) else { return self.problem(.badRequest, "updated_since is not RFC 3339") }
                since = d
            }
            let page = max(1, q.get("page").flatMap { Int($0) } ?? 1)
            let size = min(500, max(1, q.get("page_size").flatMap { Int($0) } ?? 100))
            let type = q.get("type")
            let items = self.state.withLock { $0.projects.values }.filter { $0.updatedAt >= since && (type == nil || $0.type == type) }
                .sorted { ($0.updatedAt, $0.id) < ($1.updatedAt, $1.id) }
            let slice = Array(items.dropFirst((page - 1) * size).prefix(size))
            let etag = "W/\"\(SimRandom.hash(slice.map { "\($0.id)-\($0.version)" }.joined(separator: ",")))-\(items.count)\""
            if request.headers[.ifNoneMatch] == etag { return Response(status: .notModified, headers: [.eTag: etag]) }
            let next: Any = page * size < items.count ? page + 1 : NSNull()
            return self.json(["items": slice.map(\.json), "page": page, "page_size": size, "total": items.count, "next_page": next], etag: etag)
        }
        r.get("api/v1/projects/:id") { request, context -> Response in
            if let refused = self.gate(request, "detail") { return refused }
            let id = try context.parameters.require("id")
            guard let p = self.project(id) else { return self.problem(.notFound, "project \(id) not found") }
            let etag = "\"\(p.id)-\(p.version)\""
            if request.headers[.ifNoneMatch] == etag { return Response(status: .notModified, headers: [.eTag: etag]) }
            return self.json(p.json, etag: etag)
        }
        r.post("__fake__/projects/:id") { request, context -> Response in
            let id = try context.parameters.require("id")
            let body = try await request.body.collect(upTo: 1 << 16)
            let o = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
            guard let p = self.change(id, status: o["status"] as? String, stage: o["stage"] as? String, progress: o["progress"] as? Int,
                                      name: o["name"] as? String, deleted: o["deleted"] as? Bool) else {
                return self.problem(.notFound, "project \(id) not found")
            }
            return self.json(p.json, etag: "\"\(p.id)-\(p.version)\"")
        }
        return r
    }
}
