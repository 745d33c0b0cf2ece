import Crypto
import Foundation

/// One file of the admin page, with the entity tag it is served under (a hash of its bytes: a new build's page
/// is fetched again, an unchanged one answered 304).
struct WebAsset: Sendable {
    let contentType: String
    let bytes: [UInt8]
    let etag: String

    init(contentType: String, text: String) {
        self.contentType = contentType
        bytes = Array(text.utf8)
        etag = "\"" + SHA256.hash(data: bytes).prefix(12).map { String(format: "%02x", $0) }.joined() + "\""
    }
}
