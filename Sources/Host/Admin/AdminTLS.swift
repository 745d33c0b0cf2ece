import Foundation
import HummingbirdTLS

/// The admin listener's certificate (PEM, the chain: leaf first) and private key (PEM).
public struct AdminTLS: Sendable {
    public var certificatePath: String
    public var keyPath: String

    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }

    /// The server configuration; a file that cannot be read or parsed is a clear error naming it.
    func configuration() throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificatePath) } catch {
            throw HostError.invalid("--tls-cert \(certificatePath): not a readable PEM certificate (\(error))")
        }
        guard !chain.isEmpty else { throw HostError.invalid("--tls-cert \(certificatePath): no certificate in the file") }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: keyPath, format: .pem) } catch {
            throw HostError.invalid("--tls-key \(keyPath): not a readable PEM private key (\(error))")
        }
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }
}
