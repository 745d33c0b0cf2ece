import HTTPTypes

/// The role each admin API route needs, in one place: the access middleware enforces it and the OpenAPI document
/// states it per operation. Reads need `viewer` (the token and audit lists `admin`); running, cancelling,
/// scheduling and notification actions `operator`; instances, plugin rescans and tokens `admin`.
public enum AccessPolicy {
    /// `path` below `/api/v1/` (or `metrics`, `openapi.json`), as requested or as a template (`{id}`).
    public static func required(method: HTTPRequest.Method, path: String) -> AccessRole {
        let s = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let p = Array(s.starts(with: ["api", "v1"]) ? s.dropFirst(2) : s[...])
        let first = p.first ?? ""
        if method == .get || method == .head {
            return ["tokens", "audit"].contains(first) ? .admin : .viewer
        }
        switch first {
        case "schedules", "runs", "notifications", "alert-rules", "reports": return .operator
        // POST instances/{id}/jobs/{job}/run runs a job; the rest of instances/ changes instances.
        case "instances": return p.count == 5 && p[2] == "jobs" && p[4] == "run" ? .operator : .admin
        // A plugin's own action routes (e.g. refresh one date) act like running a job.
        // Rescans and a plugin's settings (PATCH plugins/{name}) are the admin's.
        case "plugins": return p.count == 2 && (p[1] == "rescan" || method == .patch) ? .admin : .operator
        default: return .admin
        }
    }
}
