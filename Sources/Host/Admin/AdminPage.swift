import Hummingbird

/// The web admin page: `/` (index.html) and `/assets/app.js|app.css`, files of `Admin/Web` embedded in the binary
/// (`WebAssets`). Public (they hold no data; every call the page makes needs a token). Served under a policy that
/// allows no inline script or style, with entity tags: a browser revalidates and gets 304 while the build is the same.
enum AdminPage {
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static func add(to router: Router<AdminRequestContext>) {
        router.get("/") { request, _ in try serve("index.html", request) }
        router.get("assets/:file") { request, context in try serve(try context.parameters.require("file"), request) }
    }

    static func serve(_ name: String, _ request: Request) throws -> Response {
        guard name != "index.html" || request.uri.path == "/", let asset = WebAssets.files[name] else {
            throw HostError.notFound("no such file \(name.debugDescription)")
        }
        var headers: HTTPFields = [.contentType: asset.contentType, .eTag: asset.etag, .cacheControl: "no-cache",
                                   .contentSecurityPolicy: contentSecurityPolicy]
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.etag }) {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }
}
