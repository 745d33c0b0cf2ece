import Foundation
import PluginAPI

@testable import Host

/// A fresh instance id per test, so tests share a PostgreSQL database without seeing each other.
func freshInstance() -> String { "i-" + UUID().uuidString.prefix(8).lowercased() }

func page(_ collection: String, _ records: [(String, JSONValue)], cursor: StoreService.CursorUpdate? = nil, dryRun: Bool = false) -> UpsertPage {
    UpsertPage(collection: collection, records: records.map { ($0.0, $0.1.jsonBytes) }, cursor: cursor, dryRun: dryRun)
}

