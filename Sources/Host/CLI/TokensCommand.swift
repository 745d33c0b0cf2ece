import ArgumentParser
import Foundation

/// `synchost tokens create|list|revoke`: named API tokens with a role (viewer, operator, admin).
struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "Named API tokens with a role: create (shown once), list, revoke.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token; it is printed once (the database keeps its hash).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "A name for the token (who or what uses it).") var name: String
        @Option(help: "viewer (reads), operator (also runs, schedules, notifications), or admin (everything).") var role: String

        func run() async throws {
            let kernel = try await store.kernel()
            let actor = AuditActor.current?.identity.name ?? "cli"
            let (token, text) = try APIToken.issue(name: name, role: try AccessRole(parsing: role), by: actor, now: Date())
            try await kernel.store!.insertToken(token)
            FileHandle.standardError.write(Data("token \(token.name) (\(token.role.rawValue)), id \(token.id) — shown once, keep it safe:\n".utf8))
            print(text)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tokens (names, roles, last use; never the tokens themselves).")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Include revoked tokens.") var revoked = false

        func run() async throws {
            let tokens = try await store.kernel().store!.tokens(includeRevoked: revoked)
            print(TextTable.render(header: ["ID", "NAME", "ROLE", "CREATED", "BY", "LAST USED", "REVOKED"], rows: tokens.map { t in
                [t.id, t.name, t.role.rawValue, ISOTime.string(t.createdAt) ?? "", t.createdBy, ISOTime.string(t.lastUsedAt) ?? "never", ISOTime.string(t.revokedAt) ?? "-"]
            }))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by id or name: it stops working at once, in every host.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Token id or name.") var token: String

        func run() async throws {
            let revoked = try await store.kernel().store!.revokeToken(idOrName: token, now: Date())
            print("revoked \(revoked.name) (\(revoked.id))")
        }
    }
}
