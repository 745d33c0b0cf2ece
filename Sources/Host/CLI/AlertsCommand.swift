import ArgumentParser
import Foundation
import PluginAPI

/// `synchost alerts`: the active alerts (or their history) and the rules that raise them, on the database
/// directly — the same checks as `/api/v1/alert-rules`; a running host evaluates edits at its next minute.
struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts", abstract: "Alerts and alert rules (evaluated every minute by the host's alerts job).",
        subcommands: [List.self, Rules.self, AddRule.self, SetRule.self, EnableRule.self, DisableRule.self, RemoveRule.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List active alerts (with --all, resolved ones too), newest first.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Only this instance.") var instance: String?
        @Flag(help: "Resolved alerts too.") var all = false
        @Option(help: "At most this many (1-1000).") var limit = 200
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1-1000") }
            let alerts = try await store.kernel().store!.alerts(instance: instance, includeResolved: all, limit: limit)
            if json {
                print(String(decoding: try WireJSON.encode(alerts), as: UTF8.self))
                return
            }
            print(TextTable.render(header: ["ID", "RULE", "INSTANCE", "SEVERITY", "STATE", "FIRED", "RESOLVED", "SENT", "MESSAGE"], rows: alerts.map {
                [String($0.id.prefix(8)), $0.rule, $0.instance, $0.severity.rawValue, $0.state.rawValue, ISOTime.string($0.firedAt) ?? "-",
                 ISOTime.string($0.resolvedAt) ?? "-", String($0.sentCount), $0.message]
            }))
        }
    }

    struct Rules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List alert rules.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let rules = try await store.kernel().store!.alertRules()
            if json {
                print(String(decoding: try WireJSON.encode(rules), as: UTF8.self))
                return
            }
            print(TextTable.render(header: AlertsCommand.header, rows: rules.map(AlertsCommand.row)))
        }
    }

    /// The rule's fields as options; `add-rule` needs kind and threshold, `set-rule` changes what it is given.
    struct RuleOptions: ParsableArguments {
        @Option(help: "A name (e.g. 同步失败).") var name: String?
        @Option(help: "\(AlertRule.Kind.allCases.map(\.rawValue).joined(separator: " | "))") var kind: String?
        @Option(help: "Only this instance (\"\" for every instance).") var instance: String?
        @Option(help: "The job whose runs it judges (\"\" for any).") var job: String?
        @Option(help: "For stale_collection: the collection.") var collection: String?
        @Option(name: .customLong("error-class"), help: "For upstream_errors: timeout | rate_limit | auth | any.") var errorClass: String?
        @Option(help: "The threshold (runs, hours, minutes, a score, a factor or a percentage, by kind).") var threshold: Double?
        @Option(help: "info | warning | critical") var severity: String?
        @Option(name: .customLong("channel"), help: "A notification channel (repeatable; replaces the channels).") var channels: [String] = []
        @Flag(name: .customLong("no-channels"), help: "Only list its alerts, send nothing.") var noChannels = false
        @Option(name: .customLong("repeat-minutes"), help: "Repeat while active every N minutes (1-10080).") var repeatMinutes: Int?

        /// The API's input: `base` (an existing rule) with these options applied.
        func input(over base: AlertRule?) throws -> AlertRoutes.RuleInput {
            func empty(_ s: String?, else old: String?) -> String? { s.map { $0.isEmpty ? nil : $0 } ?? old }
            guard let kindName = kind ?? base?.kind.rawValue else { throw ValidationError("--kind is required") }
            guard let k = AlertRule.Kind(rawValue: kindName) else {
                throw ValidationError("--kind \(kindName.debugDescription): one of \(AlertRule.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let t = threshold ?? base?.threshold else { throw ValidationError("--threshold is required") }
            var errorClassValue = base?.errorClass
            if let errorClass {
                guard let e = AlertRule.ErrorClass(rawValue: errorClass) else { throw ValidationError("--error-class must be timeout, rate_limit, auth or any") }
                errorClassValue = e
            }
            var severityValue = base?.severity ?? .warning
            if let severity {
                guard let s = AlertRule.Severity(rawValue: severity) else { throw ValidationError("--severity must be info, warning or critical") }
                severityValue = s
            }
            return AlertRoutes.RuleInput(
                id: base?.id, name: name ?? base?.name ?? k.rawValue, kind: k, instance: empty(instance, else: base?.instance),
                collection: empty(collection, else: base?.collection), job: empty(job, else: base?.job), error_class: errorClassValue, threshold: t,
                severity: severityValue, channels: noChannels ? [] : channels.isEmpty ? base?.channels ?? [] : channels,
                repeat_minutes: repeatMinutes ?? base?.repeatMinutes, enabled: base?.enabled ?? true)
        }
    }

    struct AddRule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-rule", abstract: "Add an alert rule.")
        @OptionGroup var store: StoreOptions
        @Option(help: "An id (a-z, 0-9, _ and -; default: generated).") var id: String?
        @OptionGroup var rule: RuleOptions

        func run() async throws {
            let db = try await store.kernel().store!
            let ruleID = id ?? UUID().uuidString.lowercased()
            if try await db.alertRules().contains(where: { $0.id == ruleID }) { throw ValidationError("an alert rule \(ruleID.debugDescription) exists already") }
            try await AlertsCommand.save(try rule.input(over: nil), id: ruleID, db: db)
        }
    }

    struct SetRule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-rule", abstract: "Change an alert rule (only the options given).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Rule id.") var id: String
        @OptionGroup var rule: RuleOptions

        func run() async throws {
            let db = try await store.kernel().store!
            guard let old = try await db.alertRules().first(where: { $0.id == id }) else { throw ValidationError("no alert rule \(id.debugDescription)") }
            try await AlertsCommand.save(try rule.input(over: old), id: id, db: db)
        }
    }

    struct EnableRule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enable-rule", abstract: "Enable an alert rule.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Rule id.") var id: String
        func run() async throws { try await AlertsCommand.toggle(id, true, store) }
    }

    struct DisableRule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "disable-rule", abstract: "Disable an alert rule (its active alerts resolve at the next evaluation).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Rule id.") var id: String
        func run() async throws { try await AlertsCommand.toggle(id, false, store) }
    }

    struct RemoveRule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove-rule", abstract: "Delete an alert rule (its alerts stay as history).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Rule id.") var id: String

        func run() async throws {
            guard try await store.kernel().store!.deleteAlertRule(id: id) else { throw ValidationError("no alert rule \(id.debugDescription)") }
            print("removed alert rule \(id)")
        }
    }

    static func toggle(_ id: String, _ enabled: Bool, _ options: StoreOptions) async throws {
        let db = try await options.kernel().store!
        guard var r = try await db.alertRules().first(where: { $0.id == id }) else { throw ValidationError("no alert rule \(id.debugDescription)") }
        r.enabled = enabled
        try await db.saveAlertRule(r, now: Date())
        print("\(id) \(enabled ? "enabled" : "disabled")")
    }

    /// Checked as the API checks it, saved, shown.
    static func save(_ input: AlertRoutes.RuleInput, id: String, db: any HostDatabase) async throws {
        let r = try await AlertRoutes(store: db).rule(input, id: id)
        try await db.saveAlertRule(r, now: Date())
        print(TextTable.render(header: header, rows: [row(r)]))
    }

    static let header = ["ID", "KIND", "INSTANCE", "JOB/COLLECTION", "THRESHOLD", "SEVERITY", "CHANNELS", "REPEAT", "ENABLED", "NAME"]

    static func row(_ r: AlertRule) -> [String] {
        let threshold = r.threshold == r.threshold.rounded() ? String(Int(r.threshold)) : String(r.threshold)
        return [r.id, r.kind.rawValue + (r.errorClass.map { "/\($0.rawValue)" } ?? ""), r.instance ?? "*", r.job ?? r.collection ?? "-", threshold,
                r.severity.rawValue, r.channels.isEmpty ? "-" : r.channels.joined(separator: ","), "\(r.repeatMinutes)m", r.enabled ? "yes" : "no", r.name]
    }
}
