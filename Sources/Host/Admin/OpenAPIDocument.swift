import HTTPTypes
import PluginAPI

/// `GET /openapi.json`: an OpenAPI 3.1 description of the admin API as this host serves it, including the
/// routes of the plugins loaded right now (so the document matches exactly what answers). Used by
/// schemathesis in CI to fuzz the API and check every response against it.
enum OpenAPIDocument {
    // MARK: schema helpers

    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }
    static func object(_ props: [String: JSONValue], required: [String] = []) -> JSONValue {
        ["type": "object", "properties": .object(props), "required": .array(required.map { .string($0) })]
    }
    static let string: JSONValue = ["type": "string"]
    static let optString: JSONValue = ["type": ["string", "null"]]
    static let integer: JSONValue = ["type": "integer"]
    static let boolean: JSONValue = ["type": "boolean"]
    static let anyObject: JSONValue = ["type": "object"]
    static func array(_ items: JSONValue) -> JSONValue { ["type": "array", "items": items] }

    static func json(_ schema: JSONValue, _ description: String = "OK") -> JSONValue {
        ["description": .string(description), "content": ["application/json": ["schema": schema]]]
    }
    static let error: JSONValue = json(ref("Error"), "Error")

    /// An operation: its responses (with the error statuses it may answer), parameters and body.
    static func op(_ summary: String, _ ok: [String: JSONValue], errors: [Int], params: [JSONValue] = [], body: JSONValue? = nil, secure: Bool = true) -> JSONValue {
        var responses = ok
        for e in errors + (secure ? [401] : []) { responses[String(e)] = error }
        var o: [String: JSONValue] = ["summary": .string(summary), "responses": .object(responses)]
        if !params.isEmpty { o["parameters"] = .array(params) }
        if let body { o["requestBody"] = ["required": true, "content": ["application/json": ["schema": body]]] }
        if !secure { o["security"] = [] }
        return .object(o)
    }

    static func path(_ name: String) -> JSONValue { ["name": .string(name), "in": "path", "required": true, "schema": string] }
    static func query(_ name: String, _ schema: JSONValue = string) -> JSONValue { ["name": .string(name), "in": "query", "required": false, "schema": schema] }

    // MARK: the document

    static func build(plugins: [PluginHandle]) -> JSONValue {
        let counts = object(["fetched": integer, "pages": integer, "inserted": integer, "updated": integer, "unchanged": integer, "deleted": integer])
        let record = object(["key": string, "data": [:], "hash": string, "first_seen_at": optString, "synced_at": optString,
                             "changed_at": optString, "deleted_at": optString], required: ["key", "data"])
        let schemas: [String: JSONValue] = [
            "Error": object(["error": object(["code": string, "message": string], required: ["code", "message"])], required: ["error"]),
            "Plugin": object(["name": string, "version": optString, "kind": optString, "abi": optString, "status": string, "reason": optString,
                              "path": string, "config": ["type": ["array", "null"]], "jobs": ["type": ["array", "null"]],
                              "collections": ["type": ["array", "null"]], "routes": ["type": ["array", "null"]],
                              "isolation": ["type": ["string", "null"], "enum": ["in-process", "process", nil]],
                              "worker": ["type": ["object", "null"], "description": "An isolated plugin's worker: state (running, restarting, failing, stopped), pid, restarts, crashes_in_window, last_crash, failing_reason"]],
                              required: ["name", "status", "path"]),
            "Health": object(["status": string, "ready": boolean, "version": string, "plugins": anyObject, "loaded": integer, "failed": integer,
                              "failed_plugins": array(object(["path": string, "reason": string])), "database": anyObject, "scheduler": anyObject],
                             required: ["status", "ready", "plugins"]),
            "Instance": object(["id": string, "plugin": string, "config": anyObject, "enabled": boolean, "created_at": optString, "updated_at": optString],
                               required: ["id", "plugin", "config", "enabled"]),
            "Schedule": object(["id": string, "name": optString, "instance": string, "job": string, "params": anyObject, "cron": string, "timezone": string, "enabled": boolean,
                                "next_fires": array(string)], required: ["id", "instance", "job", "cron", "timezone", "enabled", "next_fires"]),
            "Run": object(["id": string, "instance": string, "job": string, "trigger": string, "status": string, "dry_run": boolean, "counts": counts,
                           "complete": ["type": ["boolean", "null"]], "error": optString, "message": optString, "log": optString],
                          required: ["id", "instance", "job", "trigger", "status", "counts"]),
            "Accepted": object(["run_id": string, "status": string], required: ["run_id", "status"]),
            "Record": record,
            "Token": object(["id": string, "name": string, "role": string, "created_at": string, "created_by": string, "last_used_at": optString,
                             "revoked_at": optString, "token": ["type": "string", "description": "only in the answer that created it"]],
                            required: ["id", "name", "role", "created_at"]),
            "AuditEntry": object(["id": integer, "at": string, "actor": string, "role": string, "source": string, "address": string, "action": string,
                                  "target": string, "before": [:], "after": [:]], required: ["id", "at", "actor", "action", "target"]),
            "Notification": object(["id": string, "channel": string, "state": string, "attempts": integer, "max_attempts": integer,
                                    "message": anyObject, "last_error": optString], required: ["id", "channel", "state", "attempts", "message"]),
        ]
        let id = path("id")
        let alertRule: JSONValue = ["type": "object", "properties": [
            "id": string, "name": string, "kind": ["enum": .array(AlertRule.Kind.allCases.map { .string($0.rawValue) })], "instance": string, "collection": string,
            "job": string, "error_class": ["enum": .array(AlertRule.ErrorClass.allCases.map { .string($0.rawValue) })],
            "threshold": ["type": "number"], "severity": ["enum": .array(AlertRule.Severity.allCases.map { .string($0.rawValue) })], "channels": array(string),
            "repeat_minutes": integer, "enabled": boolean,
        ], "required": ["name", "kind", "threshold"], "additionalProperties": false]
        let report: JSONValue = ["type": "object", "properties": [
            "id": string, "name": string, "instance": string, "collection": string, "view": string, "fields": array(string),
            "filters": ["type": "object", "additionalProperties": string], "date_field": string, "range": string, "group_by": array(string),
            "sums": array(string), "formats": array(["enum": .array(ReportSpec.Format.allCases.map { .string($0.rawValue) })]), "channels": array(string),
            "recipients": array(string), "cron": string, "language": ["enum": ["zh-CN", "en"]], "link": string, "enabled": boolean,
        ], "required": ["name", "instance"], "additionalProperties": false]
        let instanceInput: JSONValue = ["type": "object", "properties": ["id": string, "plugin": string, "config": anyObject, "enabled": boolean],
                                        "required": ["id", "plugin"], "additionalProperties": false]
        let scheduleProps: [String: JSONValue] = [
            "instance": string, "name": string, "job": string, "cron": string, "timezone": string, "params": anyObject, "enabled": boolean, "misfire": string,
            "misfire_cap": integer, "overlap": string, "jitter_seconds": integer, "max_attempts": integer, "retry_backoff_seconds": integer,
            "timeout_seconds": integer, "note": optString,
        ]
        var paths: [String: JSONValue] = [
            "/healthz": ["get": op("What works: the database answers, the scheduler ticks, every plugin loaded (status ok | degraded | down)",
                                   ["200": json(ref("Health")), "503": json(ref("Health"), "the database is unreachable")], errors: [], secure: false)],
            "/readyz": ["get": op("For load balancers: 200 when the database answers and the scheduler ticks",
                                  ["200": json(ref("Health")), "503": json(ref("Health"), "not ready")], errors: [], secure: false)],
            "/metrics": ["get": op("Prometheus metrics", ["200": ["description": "Prometheus text format", "content": ["text/plain": ["schema": string]]]], errors: [])],
            "/openapi.json": ["get": op("This document", ["200": json(anyObject)], errors: [])],
            "/api/v1/plugins": ["get": op("Plugins the loader found", ["200": json(array(ref("Plugin")))], errors: [])],
            "/api/v1/plugins/rescan": ["post": op("Load plugins added to the directory", ["200": json(object(["added": array(ref("Plugin")), "changed": array(string)]))], errors: [])],
            "/api/v1/plugins/{name}": [
                "get": op("One plugin", ["200": json(ref("Plugin"))], errors: [404], params: [path("name")]),
                "patch": op("How the plugin runs from now on (stored: every replica's next start too): in-process, or its .so in a supervised worker process",
                            ["200": json(ref("Plugin"))], errors: [400, 404, 409, 413], params: [path("name")],
                            body: ["type": "object", "properties": ["isolation": ["type": "string", "enum": ["process", "in-process"]]], "required": ["isolation"],
                                   "additionalProperties": false]),
            ],
            "/api/v1/instances": [
                "get": op("Instances (secrets as ***)", ["200": json(array(ref("Instance")))], errors: []),
                "post": op("Create an instance (config checked; default schedules; on-create hook)", ["201": json(ref("Instance"))], errors: [400, 404, 409, 413], body: instanceInput),
            ],
            "/api/v1/instances/{id}": [
                "get": op("One instance", ["200": json(ref("Instance"))], errors: [404], params: [id]),
                "patch": op("Change config keys or enabled", ["200": json(ref("Instance"))], errors: [400, 404, 413], params: [id],
                            body: ["type": "object", "properties": ["config": anyObject, "enabled": boolean], "additionalProperties": false]),
                "delete": op("Delete (purge=true deletes its data too)", ["204": ["description": "Deleted"]], errors: [400, 404], params: [id, query("purge", ["type": "string", "enum": ["true", "false"]])]),
            ],
            "/api/v1/instances/{id}/jobs/{job}/run": ["post": op("Queue a run now; with ?wait= (30s, 500ms, 2m; at most 5m) answer the ended run, or 202 at the deadline",
                                                                 ["200": json(ref("Run")), "202": json(ref("Accepted"))], errors: [400, 404, 409, 413],
                                                                 params: [id, path("job"), query("wait")],
                                                               body: ["type": "object", "properties": ["params": anyObject, "dry_run": boolean], "additionalProperties": false])],
            "/api/v1/schedules": [
                "get": op("Schedules", ["200": json(array(ref("Schedule")))], errors: [], params: [query("instance")]),
                "post": op("Create a schedule", ["201": json(ref("Schedule"))], errors: [400, 404, 409, 413],
                           body: ["type": "object", "properties": .object(scheduleProps), "required": ["instance", "job", "cron"], "additionalProperties": false]),
            ],
            "/api/v1/schedules/{id}": [
                "get": op("One schedule with its next fire times", ["200": json(ref("Schedule"))], errors: [404], params: [id]),
                "put": op("Replace (cron required)", ["200": json(ref("Schedule"))], errors: [400, 404, 413], params: [id],
                          body: ["type": "object", "properties": .object(scheduleProps), "additionalProperties": false]),
                "patch": op("Change fields", ["200": json(ref("Schedule"))], errors: [400, 404, 413], params: [id],
                            body: ["type": "object", "properties": .object(scheduleProps), "additionalProperties": false]),
                "delete": op("Delete", ["204": ["description": "Deleted"]], errors: [404], params: [id]),
            ],
            "/api/v1/runs": ["get": op("Run history, newest first", ["200": json(object(["runs": array(ref("Run")), "next_cursor": optString], required: ["runs"]))],
                                       errors: [400], params: [query("instance"), query("job"), query("status"), query("since"), query("limit"), query("cursor")])],
            "/api/v1/runs/{id}": ["get": op("One run", ["200": json(ref("Run"))], errors: [404], params: [id])],
            "/api/v1/runs/{id}/cancel": ["post": op("Cancel a queued or running run", ["202": json(ref("Run"))], errors: [404, 409], params: [id])],
            "/api/v1/instances/{id}/collections": ["get": op("Collections with counts and last_synced_at",
                                                             ["200": json(object(["collections": array(anyObject), "source": string], required: ["collections", "source"]))],
                                                             errors: [404], params: [id])],
            "/api/v1/instances/{id}/collections/{collection}": ["get": op("A page of records",
                ["200": json(object(["records": array(ref("Record")), "next_cursor": optString, "last_synced_at": optString, "source": string],
                                    required: ["records", "source"]))],
                errors: [400, 404, 503], params: [id, path("collection"), query("limit"), query("cursor"), query("order"), query("desc"), query("from"),
                                                  query("to"), query("include_deleted"), query("cache", ["type": "string", "enum": ["cache", "live"]])])],
            "/api/v1/instances/{id}/collections/{collection}/{key}": ["get": op("One record (cache policy)",
                ["200": json(object(["record": ref("Record"), "last_synced_at": optString, "source": string, "stale": boolean], required: ["record", "source"]))],
                errors: [400, 404, 422, 502, 503], params: [id, path("collection"), path("key"),
                                                          query("cache", ["type": "string", "enum": ["cache", "live", "if-missing", "stale-ok"]])])],
            "/api/v1/instances/{id}/export/{collection}": ["get": op("Every live record of a collection as CSV (UTF-8 with BOM) or a JSON array, streamed; the list's filters and order",
                ["200": ["description": "The records", "content": ["text/csv": ["schema": string], "application/json": ["schema": array(anyObject)]]]],
                errors: [400, 404, 503], params: [id, path("collection"), query("format", ["type": "string", "enum": ["csv", "json"]]), query("fields"),
                                                  query("order"), query("desc"), query("from"), query("to")])],
            "/api/v1/instances/{id}/retention": ["get": op("How long each collection keeps its records: the manifest's default, the instance's override, the policy in force",
                ["200": json(object(["collections": array(anyObject)], required: ["collections"]))], errors: [404, 503], params: [id])],
            "/api/v1/instances/{id}/retention/{collection}": [
                "put": op("Set the instance's retention of a collection (the host's retention job applies it)",
                          ["200": json(object(["collections": array(anyObject)], required: ["collections"]))], errors: [400, 404, 413, 503], params: [id, path("collection")],
                          body: ["type": "object", "properties": ["days": integer, "field": string, "tombstone_days": integer], "additionalProperties": false]),
                "delete": op("Drop the instance's override: the manifest's default applies again",
                             ["200": json(object(["collections": array(anyObject)], required: ["collections"]))], errors: [404, 503], params: [id, path("collection")]),
            ],
            "/api/v1/health": ["get": op("Every instance's health score 0-100 with its parts (success rate, failures, freshness, punctuality)",
                ["200": json(object(["instances": array(anyObject)], required: ["instances"]))], errors: [])],
            "/api/v1/instances/{id}/health": ["get": op("One instance's health score with its parts", ["200": json(anyObject)], errors: [404], params: [id])],
            "/api/v1/alert-rules": [
                "get": op("Alert rules (the host evaluates them every minute)", ["200": json(array(anyObject))], errors: []),
                "post": op("Create an alert rule", ["201": json(anyObject)], errors: [400, 409, 413], body: alertRule),
            ],
            "/api/v1/alert-rules/{id}": [
                "put": op("Replace an alert rule", ["200": json(anyObject)], errors: [400, 404, 413], params: [id], body: alertRule),
                "delete": op("Delete an alert rule (its alerts stay as history)", ["204": ["description": "Deleted"]], errors: [404], params: [id]),
            ],
            "/api/v1/alerts": ["get": op("Active alerts (of one instance with instance=), or with state=all their history too, newest first",
                ["200": json(object(["alerts": array(anyObject)], required: ["alerts"]))], errors: [400],
                params: [query("state", ["type": "string", "enum": ["active", "all"]]), query("limit"), query("instance")])],
            "/api/v1/reports": [
                "get": op("Stored reports with their next and last firing", ["200": json(object(["reports": array(anyObject)], required: ["reports"]))], errors: []),
                "post": op("Create a report (a query of a collection or a plugin view, a date range like T-7..T-1, grouping and sums, formats, channels, cron)",
                           ["201": json(anyObject)], errors: [400, 409, 413, 503], body: report),
            ],
            "/api/v1/reports/{id}": [
                "get": op("One report", ["200": json(anyObject)], errors: [404], params: [id]),
                "put": op("Replace a report", ["200": json(anyObject)], errors: [400, 404, 413, 503], params: [id], body: report),
                "delete": op("Delete a report", ["204": ["description": "Deleted"]], errors: [404], params: [id]),
            ],
            "/api/v1/reports/{id}/run": ["post": op("Render the report and send it to its channels now (at: fire as if at that time)",
                ["202": json(object(["ids": array(string), "rows": integer, "range": string], required: ["ids"]))], errors: [400, 404, 503],
                params: [id, query("at")])],
            "/api/v1/reports/{id}/preview": ["get": op("What the report would send: its table as JSON, or the HTML, CSV or XLSX file",
                ["200": ["description": "The table or file", "content": ["application/json": ["schema": anyObject], "text/html": ["schema": string],
                                                                        "text/csv": ["schema": string], XLSXWriter.contentType: ["schema": string]]]],
                errors: [400, 404, 503], params: [id, query("format", ["type": "string", "enum": ["json", "html", "csv", "xlsx"]]), query("at")])],
            "/api/v1/events": ["get": op("This host's events as server-sent events (run.started, run.progress, run.finished, records.changed, notification.*, plugin.*); resumable with Last-Event-ID, `reset` when events were missed",
                ["200": ["description": "An event stream", "content": ["text/event-stream": ["schema": string]]]],
                errors: [400, 503], params: [["name": "Last-Event-ID", "in": "header", "required": false, "schema": string], query("last_event_id")])],
            "/api/v1/cron/preview": ["get": op("Next fire times of a cron expression, or the parser's message",
                                               ["200": json(object(["expression": string, "timezone": string, "next": array(string)], required: ["next"]))],
                                               errors: [400], params: [["name": "expr", "in": "query", "required": true, "schema": string], query("tz"), query("count")])],
            "/api/v1/notifications": ["get": op("The outbox", ["200": json(object(["notifications": array(ref("Notification")), "next_cursor": optString, "depth": integer],
                                                                                  required: ["notifications", "depth"]))],
                                                errors: [400], params: [query("state"), query("channel"), query("limit"), query("cursor")])],
            "/api/v1/notifications/test": ["post": op("Queue a test message to a channel", ["202": json(object(["ids": array(string)], required: ["ids"]))],
                                                      errors: [400, 404, 413, 503],
                                                      body: ["type": "object", "properties": ["channel": string, "text": string, "subject": string, "format": string,
                                                                                              "recipients": array(string)], "required": ["channel"], "additionalProperties": false])],
            "/api/v1/notifications/{id}": ["get": op("One notification", ["200": json(ref("Notification"))], errors: [404], params: [id])],
            "/api/v1/notifications/{id}/retry": ["post": op("Retry a dead or unknown notification", ["202": json(ref("Notification"))], errors: [404, 409], params: [id])],
            "/api/v1/tokens": [
                "get": op("Named API tokens (never the tokens themselves)", ["200": json(array(ref("Token")))], errors: [], params: [query("revoked", boolean)]),
                "post": op("Create a token with a role; the answer carries the token, once", ["201": json(ref("Token"))], errors: [400, 409],
                           body: object(["name": string, "role": ["enum": ["viewer", "operator", "admin"]]], required: ["name", "role"])),
            ],
            "/api/v1/tokens/{id}": ["delete": op("Revoke a token (by id or name): refused at once", ["200": json(ref("Token"))], errors: [404], params: [id])],
            "/api/v1/audit": ["get": op("Changes made through the API and the CLI, newest first",
                                        ["200": json(object(["entries": array(ref("AuditEntry")), "next_before": ["type": ["integer", "null"]]], required: ["entries"]))],
                                        errors: [400], params: ["actor", "action", "target", "since", "limit", "before"].map { query($0) })],
        ]
        // The loaded plugins' own routes, as they declared them.
        for plugin in plugins.sorted(by: { $0.name < $1.name }) {
            for route in plugin.manifest.routes {
                let p = "/api/v1/plugins/\(plugin.name)/" + route.path
                let names = route.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
                var entry = paths[p]?.objectValue ?? [:]
                // A plugin answers JSON, or since ABI 1.3 any bytes it labels (a page, a file).
                func any(_ description: String) -> JSONValue {
                    ["description": .string(description), "content": ["application/json": ["schema": anyObject], "*/*": ["schema": [:]]]]
                }
                var responses: [String: JSONValue] = ["200": any("OK"), "201": any("Created"), "202": any("Accepted")]
                for e in [400, 403, 404, 405, 410, 413, 422, 429, 502, 503] { responses[String(e)] = any("Error") }
                responses["401"] = route.isPublic ? any("Error") : error
                var o: [String: JSONValue] = ["summary": .string("\(plugin.name): \(route.description)"), "responses": .object(responses),
                                              "parameters": .array(names.map(path) + [query("instance")])]
                if route.isPublic { o["security"] = [] }
                if route.method != "GET" && route.method != "DELETE" {
                    o["requestBody"] = ["required": false, "content": ["application/json": ["schema": anyObject]]]
                }
                entry[route.method.lowercased()] = .object(o)
                paths[p] = .object(entry)
            }
        }
        // Every operation behind a token says the role it needs (the access middleware enforces the same policy).
        for (p, ops) in paths {
            guard var entry = ops.objectValue else { continue }
            for (method, op) in entry {
                guard var o = op.objectValue, o["security"] != .array([]) else { continue }
                let role = AccessPolicy.required(method: HTTPRequest.Method(method.uppercased())!, path: p)
                o["x-required-role"] = .string(role.rawValue)
                o["description"] = .string("Needs a token with role \(role.rawValue) or above.")
                var responses = o["responses"]?.objectValue ?? [:]
                responses["403"] = error
                responses["429"] = error
                o["responses"] = .object(responses)
                entry[method] = .object(o)
            }
            paths[p] = .object(entry)
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": "synchost admin API", "version": .string(SynchostVersion.current),
                     "description": "Every endpoint but /healthz (and routes plugins declare public) needs Authorization: Bearer <token>: the bootstrap admin token, or a named token whose role (viewer < operator < admin) is at least the operation's x-required-role. Repeated failed sign-ins from one address are refused with 429 for a minute."],
            "servers": [["url": "/"]],
            "security": [["bearer": []]],
            "components": ["securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]], "schemas": .object(schemas)],
            "paths": .object(paths),
        ]
    }
}
