import ArgumentParser
import Foundation

struct CronCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cron", abstract: "Cron expression tools.", subcommands: [Next.self])

    /// `synchost cron next "<expr>" [--from ISO] [--count N] [--tz ZONE]`: one ISO-8601 time per line.
    struct Next: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the next fire times of a cron expression (exit 2 if it is invalid).")

        @Argument(help: "5-field cron expression or @macro, e.g. \"*/10 9-23 * * *\".") var expression: String
        @Option(help: "Start after this time (ISO-8601; default now).") var from: String?
        @Option(help: "How many fire times.") var count: Int = 5
        @Option(help: "IANA time zone (default $SYNCHOST_TIMEZONE, else UTC).") var tz: String?

        func run() async throws {
            let stderr = FileHandle.standardError
            func fail(_ message: String) -> ExitCode {
                stderr.write(Data("error: \(message)\n".utf8))
                return ExitCode(2)
            }
            guard (1...1000).contains(count) else { throw fail("--count must be 1-1000") }
            let zoneName = tz ?? ProcessInfo.processInfo.environment["SYNCHOST_TIMEZONE"] ?? "UTC"
            guard let zone = TimeZone(identifier: zoneName) else { throw fail("unknown time zone \(zoneName.debugDescription)") }
            var start = Date()
            if let from {
                let f = ISO8601DateFormatter()
                guard let d = f.date(from: from) ?? { f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]; return f.date(from: from) }() else {
                    throw fail("--from \(from.debugDescription) is not an ISO-8601 time with offset, e.g. 2026-11-23T10:00:00+08:00")
                }
                start = d
            }
            let cron: CronExpression
            do { cron = try CronExpression(expression) } catch { throw fail(error.message) }
            let out = ISO8601DateFormatter()
            out.timeZone = zone
            for fire in cron.nextFires(after: start, in: zone, count: count) { print(out.string(from: fire)) }
        }
    }
}
