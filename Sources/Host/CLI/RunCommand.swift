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
    @Flag(name: .shortAndLong, help: "Show the plugin's progress lines (log level info).") var verbose = false

    func run() async throws {
        let kernel = try await store.kernel(defaultLogLevel: verbose ? .info : .warning)
        var run = try await kernel.instances!.enqueue(instance: instance, job: job, params: try KeyValues.parse(params, option: "param"),
                                                      dryRun: dryRun, trigger: "manual", runAt: .distantFuture)
        guard let record = try await kernel.store!.instance(id: instance) else { throw ValidationError("no instance \(instance)") }
        print("run \(run.id): \(instance)/\(job)\(dryRun ? " (dry run)" : "") started")
        let runID = run.id
        let runs = kernel.store!
        let progress = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                if let r = try? await runs.run(id: runID), r.status == .running {
                    print("  … running (\(Int(Date().timeIntervalSince(r.startedAt ?? Date()))) s)")
                }
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
                print(String(decoding: try WireJSON.encode(runs.map(RunView.init)), as: UTF8.self))
                return
            }
            print(TextTable.render(header: ["ID", "INSTANCE", "JOB", "TRIGGER", "STATUS", "STARTED", "INS", "UPD", "UNCH", "DEL", "ERROR"], rows: runs.map {
                [$0.id, $0.instance, $0.job, $0.trigger, $0.status.rawValue, ISOTime.string($0.startedAt) ?? "-", "\($0.counts.inserted)",
                 "\($0.counts.updated)", "\($0.counts.unchanged)", "\($0.counts.deleted)", $0.error ?? ""]
            }))
        }
    }
}
