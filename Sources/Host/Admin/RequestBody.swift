import Foundation
import Hummingbird
import PluginAPI

/// Reading JSON request bodies: a size limit, a clear 400 for malformed JSON, wrong types and unknown keys.
enum RequestBody {
    static let limit = 1 << 20

    static func json<T: Decodable>(_ request: Request, as type: T.Type, allowedKeys: Set<String>? = nil) async throws -> T {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: limit) } catch {
            throw APIError(.contentTooLarge, "too_large", "request body is larger than \(limit) bytes")
        }
        return try decode(Array(buffer: buffer), as: type, allowedKeys: allowedKeys)
    }

    /// The same checks on bytes from elsewhere (the CLI's `--file`).
    static func decode<T: Decodable>(_ bytes: [UInt8], as type: T.Type, allowedKeys: Set<String>? = nil) throws -> T {
        let raw: JSONValue
        do { raw = try WireJSON.decode(JSONValue.self, from: bytes.isEmpty ? Array("{}".utf8) : bytes) } catch {
            throw HostError.invalid("request body is not valid JSON")
        }
        guard case .object(let object) = raw else { throw HostError.invalid("request body must be a JSON object") }
        if let allowedKeys {
            for key in object.keys.sorted() where !allowedKeys.contains(key) {
                throw HostError.invalid("unknown field \(key.debugDescription) (known: \(allowedKeys.sorted().joined(separator: ", ")))")
            }
        }
        do { return try WireJSON.decode(type, from: bytes.isEmpty ? Array("{}".utf8) : bytes) } catch {
            throw HostError.invalid("request body: \(ManifestValidation.describe(decodingError: error))")
        }
    }
}
