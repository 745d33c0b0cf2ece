import ArgumentParser
import Foundation
import PluginAPI

/// `synchost run INSTANCE JOB`: runs a job of an existing instance now, in this process, and prints the run.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a job of an instance now and print its counts.")
    @OptionGroup var store: StoreOptions
    @Argument(help: "Instance id.") var instance: String
    @Argument(help: "Job name.") var job: String
    @Option(name: .customLong("param"), help: "Job parameter key=value (repeatable).") var params: [String] = []
    @Flag(help: "Fetch everything, write nothing; report what would change.") var dryRun = false
    @Flag(name: .shortAndLong, help: "Show the plugin's progress reports and log lines (level info) on stderr.") var verbose = false

    func run() async throws {
        let kernel = try await store.kernel(defaultLogLevel: verbose ? .info : .warning)
        var run = try await kernel.instances!.enqueue(instance: instance, job: job, params: try KeyValues.parse(params, option: "param"),
                                                      dryRun: dryRun, trigger: "manual", runAt: .distantFuture)
        guard let record = try await kernel.store!.instance(id: instance) else { throw ValidationError("no instance \(instance)") }
        print("run \(run.id): \(instance)/\(job)\(dryRun ? " (dry run)" : "") started")
        // With --verbose, the plugin's progress reports as they come (on stderr: stdout has the result).
        let runID = run.id
        let subscription = verbose ? kernel.events.subscribe(after: nil) : nil
        let progress = Task {
            guard let subscription else { return }
            for await e in subscription.events where e.type == HostEvent.runProgress && e.data["run"]?.stringValue == runID {
                FileHandle.standardError.write(Data((Self.progressLine(e.data) + "\n").utf8))
            }
        }
        run = try await kernel.runner!.execute(run, instance: record.info)
        progress.cancel()
        let c = run.counts
        print("\(run.status.rawValue): fetched \(c.fetched), pages \(c.pages), inserted \(c.inserted), updated \(c.updated), unchanged \(c.unchanged), deleted \(c.deleted)")
        if let m = run.message { print(m) }
        if let e = run.error { print("error: \(e)") }
        if run.status != .succeeded { throw ExitCode(1) }
    }

    /// "  [2026-11-20] 12/20 (60%) 2026-11-20 · 12/20 accounts"
    static func progressLine(_ p: JSONValue) -> String {
        let done = p["done"]?.intValue ?? 0, total = p["total"]?.intValue ?? 0
        let bar = p["bar"]?.stringValue ?? ""
        let percent = total > 0 ? " (\(done * 100 / total)%)" : ""
        return "  \(bar.isEmpty ? "" : "[\(bar)] ")\(done)/\(total)\(percent)\(p["label"]?.stringValue.map { " " + $0 } ?? "")"
    }
}

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "Run history.", subcommands: [List.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List recent runs.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Only this instance.") var instance: String?
        @Option(help: "Only this job.") var job: String?
        @Option(help: "Only this status.") var status: String?
        @Option(help: "How many.") var limit: Int = 20
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            var q = RunQuery()
            q.instance = instance
            q.job = job
            if let status {
                guard let s = RunRecord.Status(rawValue: status) else { throw ValidationError("--status: one of \(RunRecord.Status.allCases.map(\.rawValue).joined(separator: ", "))") }
                q.status = s
            }
            guard (1...500).contains(limit) else { throw ValidationError("--limit must be 1-500") }
            q.limit = limit
            let runs = try await store.kernel().store!.runs(q)
            if json {
                print(String(decoding: try WireJSON.encode(runs.map { RunView($0) }), as: UTF8.self))
                return
            }
            print(TextTable.render(header: ["ID", "INSTANCE", "JOB", "TRIGGER", "STATUS", "STARTED", "INS", "UPD", "UNCH", "DEL", "ERROR"], rows: runs.map {
                [$0.id, $0.instance, $0.job, $0.trigger, $0.status.rawValue, ISOTime.string($0.startedAt) ?? "-", "\($0.counts.inserted)",
                 "\($0.counts.updated)", "\($0.counts.unchanged)", "\($0.counts.deleted)", $0.error ?? ""]
            }))
        }
    }
}
