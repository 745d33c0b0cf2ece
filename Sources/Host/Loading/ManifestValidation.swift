import PluginAPI

/// What the host requires of a manifest before it trusts it (names it will use in URLs, tables and
/// schedules). Each problem names the offending item.
enum ManifestValidation {
    nonisolated(unsafe) static let identifier = /^[a-z][a-z0-9_]{0,63}$/
    static let methods: Set<String> = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    static func problems(in m: PluginManifest) -> [String] {
        var problems: [String] = []
        func unique(_ names: [String], _ what: String) {
            var seen = Set<String>()
            for n in names where !seen.insert(n).inserted { problems.append("duplicate \(what) \(n.debugDescription)") }
        }
        func checkKeys(_ keys: [ConfigKey], _ what: String) {
            unique(keys.map(\.key), what)
            for k in keys {
                if k.key.wholeMatch(of: identifier) == nil { problems.append("\(what) \(k.key.debugDescription) is not an identifier (a-z, 0-9, _)") }
                if let d = k.defaultValue, !ConfigSchema.matches(d, k.type) {
                    problems.append("\(what) \(k.key): default is \(d.typeName), declared \(k.type.rawValue)")
                }
            }
        }
        checkKeys(m.config, "config key")
        unique(m.jobs.map(\.name), "job")
        for job in m.jobs {
            if job.name.wholeMatch(of: identifier) == nil { problems.append("job \(job.name.debugDescription) is not an identifier") }
            checkKeys(job.params, "parameter of job \(job.name)")
            for s in job.schedules {
                do { _ = try CronExpression(s.cron) } catch {
                    problems.append("job \(job.name): default schedule \(s.cron.debugDescription): \(error.message)")
                }
            }
        }
        if m.kind == .notifier && !m.jobs.isEmpty { problems.append("a notifier declares no jobs") }
        unique(m.collections.map(\.name), "collection")
        for c in m.collections {
            if let j = c.refreshJob, !m.jobs.contains(where: { $0.name == j }) {
                problems.append("collection \(c.name): refresh_job \(j.debugDescription) is not one of the plugin's jobs")
            }
        }
        for c in m.collections where c.name.wholeMatch(of: identifier) == nil {
            problems.append("collection \(c.name.debugDescription) is not an identifier")
        }
        unique(m.routes.map { "\($0.method) \($0.path)" }, "route")
        for r in m.routes {
            if !methods.contains(r.method) { problems.append("route \(r.path): method \(r.method) is not one of \(methods.sorted().joined(separator: ", "))") }
            if r.path.isEmpty || r.path.hasPrefix("/") || r.path.contains("..") || r.path.contains("//") {
                problems.append("route \(r.path.debugDescription): the path must be relative, without empty or '..' segments")
            }
        }
        return problems
    }

    static func describe(decodingError error: any Error) -> String {
        guard let e = error as? DecodingError else { return String(describing: error) }
        func path(_ c: [any CodingKey]) -> String {
            c.isEmpty ? "top level" : c.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch e {
        case .dataCorrupted(let c): return "not valid JSON at \(path(c.codingPath)): \(c.debugDescription)"
        case .keyNotFound(let k, let c): return "missing \(k.stringValue.debugDescription) at \(path(c.codingPath))"
        case .typeMismatch(let t, let c): return "wrong type at \(path(c.codingPath)): expected \(t)"
        case .valueNotFound(let t, let c): return "missing \(t) value at \(path(c.codingPath))"
        @unknown default: return String(describing: e)
        }
    }
}
