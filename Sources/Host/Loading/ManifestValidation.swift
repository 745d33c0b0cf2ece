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
        for c in m.collections {
            for p in c.retention?.problems ?? [] { problems.append("collection \(c.name): retention: \(p)") }
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
        problems += viewProblems(m)
        return problems
    }

    /// A view must name what it reads (a declared collection, or a declared GET route) and bind its actions to
    /// declared jobs and POST routes, so the page never offers something the plugin does not have.
    static func viewProblems(_ m: PluginManifest) -> [String] {
        var problems: [String] = []
        var seen = Set<String>()
        let collections = Set(m.collections.map(\.name))
        let gets = Set(m.routes.filter { $0.method == "GET" }.map(\.path))
        let actionRoutes = Set(m.routes.filter { $0.method != "GET" }.map { "\($0.method) \($0.path)" })
        let jobs = Set(m.jobs.map(\.name))
        let orders: Set<String> = ["key", "-key", "synced_at", "-synced_at", "changed_at", "-changed_at"]
        for v in m.views {
            let what = "view \(v.id.debugDescription)"
            if v.id.wholeMatch(of: identifier) == nil { problems.append("\(what) is not an identifier") }
            if !seen.insert(v.id).inserted { problems.append("duplicate view \(v.id.debugDescription)") }
            if v.title.zh.isEmpty || v.title.en.isEmpty { problems.append("\(what): title needs zh-CN and en") }
            if let c = v.collection, !collections.contains(c) { problems.append("\(what): collection \(c.debugDescription) is not declared") }
            if let r = v.route, !gets.contains(r) { problems.append("\(what): route \(r.debugDescription) is not a declared GET route") }
            if v.collection != nil && v.route != nil { problems.append("\(what): reads a collection or a route, not both") }
            switch v.kind {
            case .table:
                if v.collection == nil { problems.append("\(what): a table reads a collection") }
                if v.columns.isEmpty { problems.append("\(what): a table needs columns") }
            case .chart:
                if v.collection == nil && v.route == nil { problems.append("\(what): a chart reads a collection or a route") }
                if let chart = v.chart {
                    if chart.series.isEmpty { problems.append("\(what): a chart needs series") }
                    if !(1...366).contains(chart.days) { problems.append("\(what): days must be 1-366") }
                } else {
                    problems.append("\(what): a chart needs \"chart\" (x and series)")
                }
            case .summary:
                if v.route == nil { problems.append("\(what): a summary reads a route") }
            }
            if !orders.contains(v.order) { problems.append("\(what): order must be one of \(orders.sorted().joined(separator: ", "))") }
            for l in v.columns + (v.chart?.series ?? []) where l.label.zh.isEmpty || l.label.en.isEmpty {
                problems.append("\(what): the label of \(l.field) needs zh-CN and en")
            }
            var actions = Set<String>()
            for a in v.actions {
                if !actions.insert(a.id).inserted { problems.append("\(what): duplicate action \(a.id.debugDescription)") }
                switch a.kind {
                case .job:
                    if !jobs.contains(a.target ?? "") { problems.append("\(what): action \(a.id) runs \((a.target ?? "").debugDescription), not one of the plugin's jobs") }
                case .route:
                    if !actionRoutes.contains("\(a.method) \(a.target ?? "")") {
                        problems.append("\(what): action \(a.id) calls \(a.method) \((a.target ?? "").debugDescription), not a declared route (POST, PUT, PATCH or DELETE)")
                    }
                case .live:
                    if v.collection == nil { problems.append("\(what): action \(a.id) reads live, but the view reads no collection") }
                }
                if a.row && v.kind != .table { problems.append("\(what): action \(a.id) is per row, but only a table has rows") }
                for k in a.inputs where k.key.wholeMatch(of: identifier) == nil {
                    problems.append("\(what): input \(k.key.debugDescription) of action \(a.id) is not an identifier")
                }
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
