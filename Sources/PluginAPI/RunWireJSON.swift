import Foundation

/// The `run` operation's request and answer built and read through `JSONValue` instead of Codable: they cross
/// the ABI for every run, ten thousand in a burst. The bytes are the Codable form's (same keys; `scheduled_for`
/// as Foundation's default date encoding, seconds since 2001-01-01), so either side may use either.
extension InstanceInfo {
    public var json: JSONValue { ["id": .string(id), "plugin": .string(plugin), "config": .object(config)] }

    public init(json: JSONValue) throws {
        guard let id = json["id"]?.stringValue, let plugin = json["plugin"]?.stringValue else {
            throw PluginError(.invalid, "instance: expected an object with id and plugin")
        }
        self.init(id: id, plugin: plugin, config: json["config"]?.objectValue ?? [:])
    }
}

extension RunRequest {
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "run_id": .string(runID), "job": .string(job), "instance": instance.json, "params": .object(params),
            "dry_run": .bool(dryRun), "trigger": .string(trigger),
        ]
        if let scheduledFor { o["scheduled_for"] = .double(scheduledFor.timeIntervalSinceReferenceDate) }
        if let now { o["now"] = .double(now.timeIntervalSinceReferenceDate) }
        return .object(o)
    }

    public init(json: JSONValue) throws {
        guard let runID = json["run_id"]?.stringValue, let job = json["job"]?.stringValue, let instance = json["instance"] else {
            throw PluginError(.invalid, "run request: expected run_id, job and instance")
        }
        self.init(runID: runID, job: job, instance: try InstanceInfo(json: instance), params: json["params"]?.objectValue ?? [:],
                  dryRun: json["dry_run"]?.boolValue ?? false, trigger: json["trigger"]?.stringValue ?? "manual",
                  scheduledFor: json["scheduled_for"]?.doubleValue.map(Date.init(timeIntervalSinceReferenceDate:)),
                  now: json["now"]?.doubleValue.map(Date.init(timeIntervalSinceReferenceDate:)))
    }
}

extension RunCounts {
    public var json: JSONValue {
        ["fetched": .int(Int64(fetched)), "pages": .int(Int64(pages)), "inserted": .int(Int64(inserted)),
         "updated": .int(Int64(updated)), "unchanged": .int(Int64(unchanged)), "deleted": .int(Int64(deleted))]
    }

    /// Missing fields are 0, as in the Codable form.
    public init(json: JSONValue) {
        func n(_ k: String) -> Int { json[k]?.intValue.map { Int($0) } ?? 0 }
        self.init(fetched: n("fetched"), pages: n("pages"), inserted: n("inserted"), updated: n("updated"),
                  unchanged: n("unchanged"), deleted: n("deleted"))
    }
}

extension RunResult {
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "complete": .bool(complete), "counts": counts.json, "details": .object(details), "full_sync": .array(fullSync.map(JSONValue.string)),
        ]
        if let message { o["message"] = .string(message) }
        return .object(o)
    }

    public init(json: JSONValue) throws {
        guard case .object = json else { throw PluginError(.invalid, "run result: expected a JSON object") }
        self.init(complete: json["complete"]?.boolValue ?? true, counts: json["counts"].map(RunCounts.init(json:)) ?? RunCounts(),
                  message: json["message"]?.stringValue, details: json["details"]?.objectValue ?? [:],
                  fullSync: json["full_sync"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }
}
