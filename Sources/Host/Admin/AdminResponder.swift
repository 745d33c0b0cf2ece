import Hummingbird

/// The admin API's responder. The two reads that carry the traffic — one cached record, and a plugin's route — are
/// recognised from the path's bytes and go straight to their endpoint, through the same middleware and with the same
/// parameters the router would give them; every other request, and any path not in its plain form (an empty
/// segment, a trailing slash), goes to the router. Hummingbird's trie walks the path by `Character` and backtracks
/// over the API's ~50 routes: about a quarter of a cached read's CPU before this.
public struct AdminResponder: HTTPResponder {
    public typealias Context = AdminRequestContext
    let router: any HTTPResponder<Context>
    let hot: HotRoutes?

    /// The hot endpoints, each already wrapped in the router's middleware (and its group's).
    struct HotRoutes: Sendable {
        let record: any HTTPResponder<Context>
        let plugin: any HTTPResponder<Context>
        let pluginMethods: [HTTPRequest.Method]
    }

    /// What the router would have resolved: the endpoint, its parameters and its path (the metrics' label).
    enum HotMatch: Equatable {
        /// `GET /api/v1/instances/{id}/collections/{collection}/{key}`
        case record(id: Substring, collection: Substring, key: Substring)
        /// `/api/v1/plugins/{name}/**` with at least one segment after the name.
        case plugin(name: Substring, rest: Substring)

        static let recordPath = "/api/v1/instances/{id}/collections/{collection}/{key}"
        static let pluginPath = "/api/v1/plugins/{name}/**"
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        if let hot, let match = Self.match(request.uri.path) {
            switch match {
            case .record(let id, let collection, let key) where request.method == .get:
                context.coreContext.endpointPath.value = HotMatch.recordPath
                var context = context
                // Set one by one: a dictionary literal of Substrings costs more than the rest of the match.
                var parameters = Parameters()
                parameters["id"] = id
                parameters["collection"] = collection
                parameters["key"] = key
                context.coreContext.parameters = parameters
                return try await hot.record.respond(to: request, context: context)
            case .plugin(let name, let rest) where hot.pluginMethods.contains(request.method):
                context.coreContext.endpointPath.value = HotMatch.pluginPath
                var context = context
                var parameters = Parameters()
                parameters["name"] = name
                parameters.setCatchAll(rest)
                context.coreContext.parameters = parameters
                return try await hot.plugin.respond(to: request, context: context)
            default:
                break
            }
        }
        return try await router.respond(to: request, context: context)
    }

    /// The hot route a path is, read from its bytes; nil for any other (the router decides those).
    static func match(_ path: String) -> HotMatch? {
        let utf8 = path.utf8
        let prefix = "/api/v1/".utf8
        guard utf8.count > prefix.count, utf8.starts(with: prefix) else { return nil }
        // The segments after /api/v1/, each non-empty (at most 8 are looked at).
        var segments: [Range<String.Index>] = []
        segments.reserveCapacity(8)
        var start = utf8.index(utf8.startIndex, offsetBy: prefix.count)
        var i = start
        while i < utf8.endIndex {
            if utf8[i] == UInt8(ascii: "/") {
                guard i > start, segments.count < 8 else { return nil }
                segments.append(start..<i)
                start = utf8.index(after: i)
            }
            i = utf8.index(after: i)
        }
        guard start < utf8.endIndex, segments.count < 8 else { return nil }
        segments.append(start..<utf8.endIndex)
        func literal(_ n: Int, _ text: String) -> Bool { path.utf8[segments[n]].elementsEqual(text.utf8) }
        if segments.count == 5, literal(0, "instances"), literal(2, "collections") {
            return .record(id: path[segments[1]], collection: path[segments[3]], key: path[segments[4]])
        }
        if segments.count >= 3, literal(0, "plugins") {
            return .plugin(name: path[segments[1]], rest: path[segments[2].lowerBound...])
        }
        return nil
    }
}
