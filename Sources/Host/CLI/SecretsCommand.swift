import ArgumentParser
import Foundation

/// `synchost secrets status|rotate`: the key ring that seals secret config values.
struct SecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets", abstract: "The key that seals secret config values at rest: status, rotate.",
        subcommands: [Status.self, Rotate.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Where the key ring is, its key ids, and the instances with sealed values.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let kernel = try await store.kernel()
            guard let sql = kernel.store as? SQLStore, let ring = sql.sealer?.keyRing else { throw ValidationError("this store seals no secrets") }
            print("keys: \(ring.origin)")
            for (i, k) in ring.keys.enumerated() { print("  \(k.id)\(i == 0 ? "  (seals new values)" : "")") }
            let counts = try await sql.sealedValueCounts()
            print("sealed values: \(counts.values.reduce(0, +)) in \(counts.count) instance(s)")
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every secret under a new key, while hosts keep serving.",
            discussion: """
                With a key file: a new key is added first to the file (hosts reading the file pick it up when they meet a \
                value sealed under it), then every secret is re-sealed under it in one transaction. With SYNCHOST_SECRET_KEY: \
                put the new key first in every replica's SYNCHOST_SECRET_KEY (new,old), then run this to re-seal under it.
                """)
        @OptionGroup var store: StoreOptions
        @Flag(help: "Then remove the older keys from the key file (backups taken before cannot be opened with it any more).")
        var dropOld = false

        func run() async throws {
            let kernel = try await store.kernel()
            guard let sql = kernel.store as? SQLStore, let ring = sql.sealer?.keyRing else { throw ValidationError("this store seals no secrets") }
            let target: SecretKeyRing
            switch ring.origin {
            case .file(let path):
                let file = URL(fileURLWithPath: path)
                target = try SecretKeyRing(keys: [SecretKeyRing.newKey()] + ring.keys.map(\.key), origin: ring.origin)
                // The file first: a host that meets a value sealed under the new key finds it there.
                try target.write(to: file)
            case .environment, .given:
                guard dropOld == false else { throw ValidationError("--drop-old works on a key file; remove old keys from SYNCHOST_SECRET_KEY yourself") }
                target = ring
            }
            let count = try await sql.reseal(under: target)
            if dropOld, case .file(let path) = ring.origin {
                try SecretKeyRing(keys: [target.primary.key], origin: ring.origin).write(to: URL(fileURLWithPath: path))
            }
            print("re-sealed the secrets of \(count) instance(s) under key \(target.primary.id)\(dropOld ? "; older keys removed from \(ring.origin)" : "")")
        }
    }
}
