import ArgumentParser
import Foundation
import PluginAPI

/// `synchost reports`: stored reports on the database directly, with the checks of `/api/v1/reports`; `run`
/// sends one now through the outbox (a running host delivers it), `preview` writes what it would send.
struct ReportsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reports", abstract: "Scheduled reports: list, add or replace from JSON, preview, send now, remove.",
        subcommands: [List.self, Save.self, Preview.self, Send.self, Remove.self], defaultSubcommand: List.self)

    /// The API's report routes over the CLI's kernel (same validation, same next-fire computation).
    static func routes(_ options: StoreOptions) async throws -> ReportRoutes {
        let kernel = try await options.kernel()
        return ReportRoutes(store: kernel.store!, registry: kernel.registry, clock: { Date() }, defaultZone: kernel.instances!.defaultTimeZone)
    }

    static func report(_ id: String, _ routes: ReportRoutes) async throws -> StoredReport {
        guard let r = try await routes.store.report(id: id) else { throw ValidationError("no report \(id.debugDescription)") }
        return r
    }

    static func at(_ text: String?) throws -> Date {
        guard let text else { return Date() }
        return try ISOTime.parse(text, field: "--at")
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List reports with their next and last firing.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let reports = try await ReportsCommand.routes(store).store.reports()
            if json {
                print(String(decoding: try WireJSON.encode(ReportRoutes.List(reports: reports.map(ReportRoutes.View.init))), as: UTF8.self))
                return
            }
            print(TextTable.render(header: ["ID", "NAME", "SOURCE", "CRON", "CHANNELS", "ENABLED", "NEXT", "LAST"], rows: reports.map { r in
                [r.spec.id, r.spec.name, r.spec.instance + "/" + (r.spec.view ?? r.spec.collection ?? "-"), r.spec.cron ?? "-",
                 r.spec.channels.joined(separator: ","), r.spec.enabled ? "yes" : "no", ISOTime.string(r.nextFireAt) ?? "-",
                 r.lastOutcome.map { (r.lastFailed ? "failed: " : "") + $0 } ?? "-"]
            }))
        }
    }

    struct Save: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "save", abstract: "Add a report, or replace the one of the same id, from its JSON (the body of POST /api/v1/reports).")
        @OptionGroup var store: StoreOptions
        @Option(help: "The report's JSON file (- for stdin).") var file: String

        func run() async throws {
            let bytes: [UInt8]
            if file == "-" {
                bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
            } else {
                guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("--file \(file): cannot read it") }
                bytes = Array(data)
            }
            var spec = try RequestBody.decode(bytes, as: ReportSpec.self, allowedKeys: ReportSpec.keys)
            if spec.id.isEmpty { spec.id = "r-" + UUID().uuidString.prefix(8).lowercased() }
            let routes = try await ReportsCommand.routes(store)
            let existed = try await routes.store.report(id: spec.id) != nil
            let saved = try await routes.save(try await routes.checked(spec))
            print("\(existed ? "replaced" : "added") report \(saved.spec.id): next \(ISOTime.string(saved.nextFireAt) ?? "-")")
        }
    }

    struct Preview: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What a report would send: its table on stdout, or a CSV/XLSX/HTML file.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Report id.") var id: String
        @Option(help: "text | csv | xlsx | html") var format = "text"
        @Option(name: .shortAndLong, help: "Write the file here (xlsx needs it).") var output: String?
        @Option(help: "Fire as if at this ISO time (the date range is relative to it).") var at: String?

        func run() async throws {
            guard ["text", "csv", "xlsx", "html"].contains(format) else { throw ValidationError("--format must be text, csv, xlsx or html") }
            if format == "xlsx" && output == nil { throw ValidationError("--format xlsx writes a file: give --output") }
            let routes = try await ReportsCommand.routes(store)
            let r = try await ReportsCommand.report(id, routes)
            let fire = try ReportsCommand.at(at)
            let (table, zone) = try await routes.runner.table(r.spec, fire: fire)
            let bytes: [UInt8]
            switch format {
            case "csv": bytes = ReportRendering.csv(table)
            case "xlsx": bytes = try XLSXWriter.workbook(table, created: Date())
            case "html": bytes = Array(ReportRendering.html(table, generated: ReportTable.FieldValue.time(Date(), zone).text).utf8)
            default:
                let cells = { (row: [ReportCell]) in row.map { c -> String in
                    switch c {
                    case .text(let s): s
                    case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
                    case .empty: ""
                    }
                } }
                let text = "\(table.title) · \(table.rangeText) (\(table.zone))\n"
                    + TextTable.render(header: table.columns.map(\.label), rows: table.rows.map(cells) + (table.totals.map { [cells($0)] } ?? []))
                bytes = Array(text.utf8)
            }
            if let output {
                try Data(bytes).write(to: URL(fileURLWithPath: output))
                print("wrote \(output): \(table.rows.count) row(s), \(bytes.count) bytes")
            } else {
                FileHandle.standardOutput.write(Data(bytes))
                if format != "text" { print() }
            }
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "send", abstract: "Send a report now to its channels (queued in the outbox; a running host delivers it).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Report id.") var id: String
        @Option(help: "Fire as if at this ISO time.") var at: String?

        func run() async throws {
            let routes = try await ReportsCommand.routes(store)
            let r = try await ReportsCommand.report(id, routes)
            let (ids, table) = try await routes.runner.send(try await routes.checked(r.spec), fire: try ReportsCommand.at(at), dedupKey: nil)
            try await routes.store.recordReportOutcome(id: r.spec.id, firedAt: Date(), outcome: "sent on demand to \(ids.count) channel(s): \(table.rows.count) row(s)",
                                                       failed: false)
            print("queued \(ids.count) notification(s): \(table.rows.count) row(s), \(table.rangeText)")
            for i in ids { print("  \(i)") }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a report.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Report id.") var id: String

        func run() async throws {
            guard try await ReportsCommand.routes(store).store.deleteReport(id: id) else { throw ValidationError("no report \(id.debugDescription)") }
            print("removed report \(id)")
        }
    }
}
