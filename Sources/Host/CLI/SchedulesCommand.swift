import ArgumentParser
import Foundation
import PluginAPI

struct SchedulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedules", abstract: "Cron schedules stored in the database (a running host applies edits at its next look).",
        subcommands: [List.self, Add.self, Set.self, Enable.self, Disable.self, Remove.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List schedules with their next fire time.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Only this instance.") var instance: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let all = try await store.kernel().store!.schedules(instance: instance)
            if json {
                print(String(decoding: try WireJSON.encode(all.map { ScheduleView($0) }), as: UTF8.self))
                return
            }
            print(TextTable.render(header: ["ID", "NAME", "INSTANCE", "JOB", "CRON", "ZONE", "ENABLED", "NEXT", "LAST"], rows: all.map {
                [$0.id, $0.name ?? "-", $0.instance, $0.job, $0.cron, $0.timezone, $0.enabled ? "yes" : "no",
                 $0.enabled ? (ISOTime.string($0.nextRunAt) ?? "-") : "-", $0.lastStatus ?? "-"]
            }))
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a schedule of an instance's job.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Instance id.") var instance: String
        @Argument(help: "Job name.") var job: String
        @Argument(help: "Cron expression, e.g. \"*/10 * * * *\".") var cron: String
        @Option(name: .customLong("tz"), help: "IANA time zone (default: the instance's timezone key, else the host's).") var zone: String?
        @Option(name: .customLong("param"), help: "Job parameter key=value (repeatable).") var params: [String] = []
        @Option(help: "A name, unique per instance (e.g. 客户数据同步).") var name: String?
        @Option(help: "A note.") var note: String?

        func run() async throws {
            let kernel = try await store.kernel()
            guard let inst = try await kernel.store!.instance(id: instance) else { throw ValidationError("no instance \(instance.debugDescription)") }
            var s = ScheduleRecord(instance: instance, job: job, cron: cron,
                                   timezone: zone ?? inst.config["timezone"]?.stringValue ?? kernel.instances!.defaultTimeZone)
            try ScheduleInput(params: params.isEmpty ? nil : try KeyValues.parse(params, option: "param"), note: note, name: name).apply(to: &s)
            s = try await kernel.instances!.validated(s)
            s.advance(after: Date())
            try await kernel.store!.insertSchedule(s)
            SchedulesCommand.show(s)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a schedule (by id or name).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Schedule id or name.") var id: String

        func run() async throws {
            let kernel = try await store.kernel()
            guard let s = try await kernel.store!.schedule(idOrName: id) else { throw ValidationError("no schedule \(id.debugDescription)") }
            try await kernel.store!.deleteSchedule(id: s.id)
            print("removed \(s.id)\(s.name.map { " (\($0))" } ?? ""): \(s.instance)/\(s.job) \(s.cron)")
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a schedule's cron, zone, params, name or policies.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Schedule id or name.") var id: String
        @Option(help: "A new name (\"\" clears it).") var name: String?
        @Option(help: "Cron expression.") var cron: String?
        @Option(name: .customLong("tz"), help: "IANA time zone.") var zone: String?
        @Option(name: .customLong("param"), help: "Job parameter key=value (repeatable; replaces the params).") var params: [String] = []
        @Option(help: "skip | once | all") var misfire: String?
        @Option(help: "forbid | allow | replace") var overlap: String?
        @Option(help: "Attempts including the first.") var maxAttempts: Int?

        func run() async throws {
            let kernel = try await store.kernel()
            guard var s = try await kernel.store!.schedule(idOrName: id) else { throw ValidationError("no schedule \(id.debugDescription)") }
            let input = ScheduleInput(params: params.isEmpty ? nil : try KeyValues.parse(params, option: "param"), cron: cron, timezone: zone,
                                      misfire: misfire, overlap: overlap, max_attempts: maxAttempts, name: name)
            try input.apply(to: &s)
            try await SchedulesCommand.save(s, kernel: kernel)
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a schedule.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Schedule id or name.") var id: String
        func run() async throws { try await SchedulesCommand.toggle(id, true, store) }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a schedule.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Schedule id or name.") var id: String
        func run() async throws { try await SchedulesCommand.toggle(id, false, store) }
    }

    static func toggle(_ id: String, _ enabled: Bool, _ options: StoreOptions) async throws {
        let kernel = try await options.kernel()
        guard var s = try await kernel.store!.schedule(idOrName: id) else { throw ValidationError("no schedule \(id.debugDescription)") }
        s.enabled = enabled
        try await save(s, kernel: kernel)
    }

    /// Validates like the API does, recomputes the next fire, saves, prints the next fires.
    static func save(_ schedule: ScheduleRecord, kernel: Kernel) async throws {
        var s = try await kernel.instances!.validated(schedule)
        s.updatedAt = Date()
        s.advance(after: Date())
        try await kernel.store!.updateSchedule(s)
        show(s)
    }

    static func show(_ s: ScheduleRecord) {
        let view = ScheduleView(s)
        print("\(s.id)\(s.name.map { " (\($0))" } ?? ""): \(s.instance)/\(s.job) \(s.cron) (\(s.timezone)) \(s.enabled ? "enabled" : "disabled")")
        if s.enabled { for f in view.next_fires { print("  next \(f)") } }
    }
}
