import ArgumentParser
import Foundation
import Logging

/// Commands that work on the database directly (the same store `serve` uses).
struct StoreOptions: ParsableArguments {
    @OptionGroup var host: HostOptions
    @Option(help: "Database: an SQLite path or sqlite:PATH (default <data-dir>/synchost.db), or a postgres:// URL (default $SYNCHOST_DATABASE).")
    var database: String?
    @Option(help: "Default IANA time zone of new schedules (default $SYNCHOST_TIMEZONE, else UTC).")
    var timezone: String?

    /// A kernel with its store, plugins loaded, scheduler not started.
    func kernel(defaultLogLevel: Logger.Level = .warning) async throws -> Kernel {
        let logger = try host.bootstrapLogging(default: defaultLogLevel)
        let env = ProcessInfo.processInfo.environment
        let location = database ?? env["SYNCHOST_DATABASE"] ?? host.dataDirectoryURL.appendingPathComponent("synchost.db").path
        let zone = timezone ?? env["SYNCHOST_TIMEZONE"] ?? "UTC"
        guard TimeZone(identifier: zone) != nil else { throw ValidationError("--timezone \(zone): unknown IANA time zone") }
        let store = try await StoreFactory.open(location, logger: logger, secretKeys: host.secretKeys(for: location))
        return try await host.makeKernel(defaultLogLevel: defaultLogLevel, store: store, defaultTimeZone: zone)
    }
}

/// key=value options whose values parse as JSON when they can ("7" → 7, "true" → true, "x" → "x").
enum KeyValues {
    static func parse(_ pairs: [String], option: String) throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for p in pairs {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else { throw ValidationError("--\(option) \(p.debugDescription): expected key=value") }
            let value = String(p[p.index(after: eq)...])
            out[String(p[..<eq])] = (try? WireJSON.decode(JSONValue.self, from: Array(value.utf8))) ?? .string(value)
        }
        return out
    }
}

import PluginAPI
