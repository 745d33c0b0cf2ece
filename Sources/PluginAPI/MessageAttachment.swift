import Foundation

/// A file that goes with an outgoing message (ABI 1.5): on the wire `{"filename", "content_type", "data"}`,
/// the bytes in base64.
public struct MessageAttachment: Sendable, Codable, Equatable {
    public var filename: String
    public var contentType: String
    public var data: [UInt8]

    public init(filename: String, contentType: String, data: [UInt8]) {
        self.filename = filename
        self.contentType = contentType
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case filename, data
        case contentType = "content_type"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        filename = try c.decode(String.self, forKey: .filename)
        contentType = try c.decodeIfPresent(String.self, forKey: .contentType) ?? "application/octet-stream"
        let encoded = try c.decode(String.self, forKey: .data)
        guard let bytes = Data(base64Encoded: encoded) else {
            throw DecodingError.dataCorruptedError(forKey: .data, in: c, debugDescription: "attachment \(filename): data is not base64")
        }
        data = Array(bytes)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(filename, forKey: .filename)
        try c.encode(contentType, forKey: .contentType)
        try c.encode(Data(data).base64EncodedString(), forKey: .data)
    }
}
