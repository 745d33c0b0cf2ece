import Foundation
import HTTPTypes
import Hummingbird
import PluginAPI

/// `/api/v1/plugins/{plugin}/{path...}`: requests to the routes plugins declare in their manifests. The host
/// matches the path against the declared templates, checks the admin token (unless the route is declared
/// public: the plugin then authenticates the caller itself), resolves `{id}` (or `?instance=`, or else the
/// plugin's only instance) to an instance of that plugin and hands the request to the plugin's "route"
/// operation. The plugin never sees the admin token.
struct PluginRoutes {
    let registry: PluginRegistry
    let store: any HostDatabase
    let authority: TokenAuthority
    var clock: HostClock = HostClocks.system
    /// Answers the plugins marked reusable: GETs of a named instance, re-checked against the database.
    let cache = PluginRouteCache()
    static let cacheHeader = HTTPField.Name("x-synchost-cache")!

    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]
    /// The request headers a plugin sees; never Authorization (the caller's token).
    static let forwardedHeaders: [HTTPField.Name] = [.contentType, .ifNoneMatch, .accept, .acceptLanguage, .userAgent]
    static let timeout: Duration = .seconds(120)

    struct Match {
        let spec: RouteSpec
        let params: [String: String]
    }

    /// The declared route a concrete path matches: `{name}` segments match any one non-empty segment.
    /// `templates` are the routes' paths split into segments, in the same order.
    static func match(_ routes: [RouteSpec], templates: [[String]], method: String, path: [String]) -> (Match?, methodMismatch: Bool) {
        var otherMethod = false
        for (spec, template) in zip(routes, templates) where template.count == path.count {
            var params: [String: String] = [:]
            var ok = true
            for (t, p) in zip(template, path) {
                if t.hasPrefix("{"), t.hasSuffix("}") {
                    params[String(t.dropFirst().dropLast())] = p
                } else if t != p {
                    ok = false
                    break
                }
            }
            guard ok else { continue }
            if spec.method == method { return (Match(spec: spec, params: params), false) }
            otherMethod = true
        }
        return (nil, otherMethod)
    }

    func add(to router: Router<AdminRequestContext>) {
        for method in Self.methods {
            router.on("api/v1/plugins/:name/**", method: method) { request, context in
                try await handle(request, context: context)
            }
        }
    }

    func handle(_ request: Request, context: AdminRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        // Without a token nothing about the plugin's routes is revealed, except its public ones. A route that is not
        // public needs a token whose role allows it (reads: viewer; actions: operator).
        func signedIn() async throws -> Identity {
            let identity = try await authority.authenticate(request, peer: { context.clientAddress })
            try authority.authorize(identity, method: request.method, path: request.uri.path)
            return identity
        }
        guard let plugin = registry.plugin(named: name) else {
            _ = try await signedIn()
            throw HostError.notFound("no loaded plugin named \(name.debugDescription)")
        }
        // A request that declares no body (a plain GET) is not awaited for one.
        let declaresBody = request.headers.contains { $0.name == .contentLength || $0.name == .transferEncoding }
        // A GET answered before may be answered again, once the caller is let in and the answer is checked in the
        // database together with the instance itself (see PluginRouteCache).
        let cacheKey = request.method == .get && !declaresBody ? PluginRouteCache.Key(plugin: plugin.name, request: request) : nil
        if let cacheKey, let entry = cache.entry(cacheKey) {
            if !entry.isPublic { _ = try await signedIn() }
            let stamp = store.commitStamp()
            let hit = Response(status: entry.status, headers: entry.hitHeaders, body: .init(byteBuffer: entry.body))
            // Checked since the last commit: nothing it read can have changed.
            if let stamp, entry.checkedAt == stamp, PluginRouteCache.stillCurrent(entry, handle: plugin, now: clock()) { return hit }
            if try await PluginRouteCache.stillValid(entry, handle: plugin, now: clock(), store: store) {
                if let stamp, store.commitStamp() == stamp { cache.markChecked(cacheKey, serial: entry.serial, at: stamp) }
                return hit
            }
            cache.remove(cacheKey)
        }
        let rest = context.parameters.getCatchAll().map(String.init)
        let (found, otherMethod) = Self.match(plugin.manifest.routes, templates: plugin.routeTemplates, method: request.method.rawValue, path: rest)
        guard let found else {
            _ = try await signedIn()
            if otherMethod { throw APIError(.methodNotAllowed, "method_not_allowed", "\(request.method.rawValue) is not allowed on this route of \(name)") }
            throw HostError.notFound("\(name) has no route \(request.method.rawValue) \(rest.joined(separator: "/"))")
        }
        let identity = found.spec.isPublic ? nil : try await signedIn()
        let instanceID = found.params["id"] ?? request.uri.queryParameters.get("instance").map({ String($0) })
        let body: [UInt8]?
        if !declaresBody {
            body = nil
        } else {
            do {
                let buffer = try await request.body.collect(upTo: RequestBody.limit)
                body = buffer.readableBytes == 0 ? nil : Array(buffer: buffer)
            } catch {
                throw APIError(.contentTooLarge, "too_large", "request body is larger than \(RequestBody.limit) bytes")
            }
        }
        var query: [String: String] = [:]
        for (k, v) in request.uri.queryParameters { query[String(k)] = String(v) }
        // Only headers a plugin may need; never Authorization (the caller's token).
        var headers: [String: String] = [:]
        for field in request.headers where Self.forwardedHeaders.contains(field.name) {
            headers[field.name.canonicalName] = field.value
        }
        var instance: InstanceRecord?
        if let id = instanceID {
            guard let i = try await store.instance(id: id), i.plugin == plugin.name else {
                throw HostError.notFound("no \(plugin.name) instance \(id.debugDescription)")
            }
            instance = i
        } else {
            // A route without {id} (e.g. a public link) acts for the plugin's only instance, if it has one.
            let mine = try await store.instances().filter { $0.plugin == plugin.name }
            if mine.count == 1 { instance = mine[0] }
        }
        // Only the answers of a named instance are kept (the read log is what lets them be checked later).
        let reads = cacheKey == nil || instanceID == nil ? nil : RouteReadLog()
        var routeRequest = RouteRequest(
            method: request.method.rawValue, route: found.spec.path, path: rest.joined(separator: "/"),
            pathParams: found.params, query: query, headers: headers, instance: instance?.info)
        routeRequest.bodyBytes = body
        routeRequest.now = clock()
        let secrets = instance.map { ConfigSchema.secretValues($0.config, keys: plugin.manifest.config) } ?? []
        var session = SessionContext(plugin: plugin.name, instance: instance?.info, secrets: secrets, reads: reads)
        // A disabled instance reaches no upstream, from a route either (its cache still answers).
        if let instance, !instance.enabled { session.upstreamRefusal = InstanceManager.disabledReason(instance.id) }
        // ABI 1.3 plugins get and give bodies as frames (any bytes); older ones JSON with a text body.
        let response: RouteResponse
        // The moment the plugin's reads start from: if nothing is committed until they end, they are of that moment.
        let stampBefore = reads == nil ? nil : store.commitStamp()
        if plugin.abiMinor >= 3 {
            let answer = try await plugin.invoke(PluginOperation.route, request: try routeRequest.framed(), context: session, timeout: Self.timeout)
            do { response = try RouteResponse(framed: answer) } catch {
                throw PluginError(.internal, "plugin \(plugin.name) answered route with a malformed framed answer: \(error)")
            }
        } else {
            response = try await plugin.invoke(PluginOperation.route, routeRequest, as: RouteResponse.self, context: session, timeout: Self.timeout)
        }
        guard (100...599).contains(response.status) else {
            throw PluginError(.internal, "plugin \(plugin.name) answered with HTTP status \(response.status)")
        }
        var fields = HTTPFields()
        // The host frames the body itself: a plugin cannot set framing or connection headers.
        let hopByHop: Set<String> = ["content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "trailer"]
        for (k, v) in response.headers.sorted(by: { $0.key < $1.key }) where !hopByHop.contains(k.lowercased()) {
            if let n = HTTPField.Name(k) { fields[n] = SecretMasker.redact(v, secrets: secrets) }
        }
        if fields[.contentType] == nil { fields[.contentType] = "application/json" }
        let status = HTTPResponse.Status(code: response.status)
        let bytes = ByteBuffer(bytes: SecretMasker.redact(bytes: response.bodyBytes, secrets: secrets))
        if let cacheKey, let instance, let policy = response.cache, let logged = reads?.reads,
           let again = try? store.prepareReadAgain(instance: instance.id, logged.map(\.read)) {
            var hitHeaders = fields
            hitHeaders[Self.cacheHeader] = "hit"
            cache.store(.init(handle: plugin, instanceID: instance.id, isPublic: found.spec.isPublic, instanceUpdatedAt: instance.updatedAt,
                              reads: again, stamps: logged.map(\.stamp), until: policy.untilMillis.map { Date(millis: $0) },
                              status: status, hitHeaders: hitHeaders, body: bytes,
                              checkedAt: stampBefore.flatMap { store.commitStamp() == $0 ? $0 : nil }), for: cacheKey)
            fields[Self.cacheHeader] = "miss"
        }
        // A plugin's action (anything but a read) is in the audit log, with who called it and its answer's status.
        if let identity, request.method != .get, request.method != .head {
            try await AuditActor.$current.withValue(AuditActor(identity: identity, address: TokenAuthority.client(peer: context.clientAddress, request))) {
                try await store.recordAudit(action: "plugin.call", target: "\(plugin.name)/\(rest.joined(separator: "/"))", before: nil, after: [
                    "method": .string(request.method.rawValue), "instance": instance.map { .string($0.id) } ?? .null, "status": .int(Int64(response.status)),
                ])
            }
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: bytes))
    }
}
