import ArgumentParser
import Foundation
import PluginAPI

/// `synchost audit`: who changed what, newest first.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The audit log: changes made through the API and the CLI, newest first.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Only this actor (a token name, cli:USER, admin-token).") var actor: String?
    @Option(help: "Only this action (instance.update) or kind (instance).") var action: String?
    @Option(help: "Only changes of this id.") var target: String?
    @Option(help: "How many entries (1-1000).") var limit: Int = 50
    @Flag(help: "One JSON object per line, with the values before and after.") var json = false

    func run() async throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1-1000") }
        var q = AuditQuery()
        q.actor = actor
        q.action = action
        q.target = target
        q.limit = limit
        let entries = try await store.kernel().store!.audit(q)
        if json {
            for e in entries {
                let o: JSONValue = ["id": .int(e.id), "at": .string(ISOTime.string(e.at) ?? ""), "actor": .string(e.actor), "role": .string(e.role),
                                    "source": .string(e.source), "address": .string(e.address), "action": .string(e.action), "target": .string(e.target),
                                    "before": e.before ?? .null, "after": e.after ?? .null]
                print(String(decoding: o.jsonBytes, as: UTF8.self))
            }
            return
        }
        print(TextTable.render(header: ["ID", "AT", "ACTOR", "SOURCE", "ACTION", "TARGET"], rows: entries.map { e in
            [String(e.id), ISOTime.string(e.at) ?? "", e.actor, e.source == "api" ? "api \(e.address)" : e.source, e.action, e.target]
        }))
    }
}
