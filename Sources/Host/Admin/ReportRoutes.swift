import Foundation
import HTTPTypes
import Hummingbird
import PluginAPI

/// `/api/v1/reports`: stored reports (list, create, read, replace, delete; operator; audited), `POST
/// /reports/{id}/run` to send one now (`?at=` an ISO time to fire as if then), and `GET /reports/{id}/preview
/// ?format=json|html|csv|xlsx` to see what it would send. The host's `reports` job sends the scheduled ones.
struct ReportRoutes {
    let store: any HostDatabase
    let registry: PluginRegistry
    let clock: HostClock
    let defaultZone: String

    var runner: ReportRunner { ReportRunner(store: store, registry: registry, events: nil, clock: clock, defaultZone: defaultZone) }

    struct View: Encodable {
        var report: JSONValue
        var next_fire_at: String?
        var last_fired_at: String?
        var last_outcome: String?
        var last_failed: Bool

        init(_ r: StoredReport) {
            report = SQLStore.reportJSON(r.spec)
            next_fire_at = ISOTime.string(r.nextFireAt)
            last_fired_at = ISOTime.string(r.lastFiredAt)
            last_outcome = r.lastOutcome
            last_failed = r.lastFailed
        }
    }

    struct List: Encodable {
        var reports: [View]
    }

    struct Sent: Encodable {
        var ids: [String]
        var rows: Int
        var range: String
    }

    struct Preview: Encodable {
        var title: String
        var range: String
        var zone: String
        var columns: [String]
        var labels: [String]
        var rows: [[JSONValue]]
        var totals: [JSONValue]?
    }

    /// A definition checked against the host: its instance, its view or collection, its channels (notifiers).
    func checked(_ spec: ReportSpec) async throws -> ReportSpec {
        if let problem = spec.problems.first { throw HostError.invalid("report: \(problem)") }
        _ = try await runner.source(spec)
        for c in spec.channels {
            guard let i = try await store.instance(id: c) else { throw HostError.invalid("channels: no channel \(c.debugDescription)") }
            guard registry.plugin(named: i.plugin)?.manifest.kind == .notifier else {
                throw HostError.invalid("channels: \(c) is a \(i.plugin) instance, not a notification channel")
            }
        }
        return spec
    }

    func save(_ spec: ReportSpec) async throws -> StoredReport {
        try await store.saveReport(spec, nextFireAt: try await runner.nextFire(spec, after: clock()), now: clock())
        guard let saved = try await store.report(id: spec.id) else { throw HostError.notFound("no report \(spec.id.debugDescription)") }
        return saved
    }

    func existing(_ context: AdminRequestContext) async throws -> StoredReport {
        let id = try context.parameters.require("id")
        guard let r = try await store.report(id: id) else { throw HostError.notFound("no report \(id.debugDescription)") }
        return r
    }

    /// `?at=` an ISO time, else now.
    func fireTime(_ request: Request) throws -> Date {
        guard let at = request.uri.queryParameters.get("at") else { return clock() }
        return try ISOTime.parse(String(at), field: "at")
    }

    func add(to api: RouterGroup<AdminRequestContext>) {
        api.get("reports") { _, _ -> Response in
            try .json(List(reports: try await store.reports().map(View.init)))
        }
        api.post("reports") { request, _ -> Response in
            var spec = try await RequestBody.json(request, as: ReportSpec.self, allowedKeys: ReportSpec.keys)
            if spec.id.isEmpty { spec.id = "r-" + UUID().uuidString.prefix(8).lowercased() }
            if try await store.report(id: spec.id) != nil { throw HostError.conflict("a report \(spec.id.debugDescription) exists already") }
            return try .json(View(try await save(try await checked(spec))), status: .created)
        }
        api.get("reports/:id") { _, context -> Response in
            try .json(View(try await existing(context)))
        }
        api.put("reports/:id") { request, context -> Response in
            let old = try await existing(context)
            var spec = try await RequestBody.json(request, as: ReportSpec.self, allowedKeys: ReportSpec.keys)
            guard spec.id.isEmpty || spec.id == old.spec.id else { throw HostError.invalid("id: a report's id cannot change") }
            spec.id = old.spec.id
            return try .json(View(try await save(try await checked(spec))))
        }
        api.delete("reports/:id") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard try await store.deleteReport(id: id) else { throw HostError.notFound("no report \(id.debugDescription)") }
            return Response(status: .noContent)
        }
        api.post("reports/:id/run") { request, context -> Response in
            let r = try await existing(context)
            let (ids, table) = try await runner.send(try await checked(r.spec), fire: try fireTime(request), dedupKey: nil)
            try await store.recordReportOutcome(id: r.spec.id, firedAt: clock(), outcome: "sent on demand to \(ids.count) channel(s): \(table.rows.count) row(s)",
                                                failed: false)
            return try .json(Sent(ids: ids, rows: table.rows.count, range: table.rangeText), status: .accepted)
        }
        api.get("reports/:id/preview") { request, context -> Response in
            let r = try await existing(context)
            let format = request.uri.queryParameters.get("format").map { String($0) } ?? "json"
            guard ["json", "html", "csv", "xlsx"].contains(format) else { throw HostError.invalid("format must be json, html, csv or xlsx") }
            let fire = try fireTime(request)
            let (table, zone) = try await runner.table(r.spec, fire: fire)
            let stem = ReportRendering.fileStem(r.spec, table, fire: fire, zone: zone)
            func file(_ bytes: [UInt8], _ type: String) -> Response {
                Response(status: .ok, headers: [.contentType: type, .contentDisposition: "attachment; filename=\"\(stem).\(format)\"", .cacheControl: "no-store"],
                         body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
            }
            switch format {
            case "html":
                let generated = ReportTable.FieldValue.time(clock(), zone).text
                return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: ReportRendering.html(table, generated: generated))))
            case "csv": return file(ReportRendering.csv(table), "text/csv; charset=utf-8")
            case "xlsx": return file(try XLSXWriter.workbook(table, created: clock()), XLSXWriter.contentType)
            default:
                func json(_ c: ReportCell) -> JSONValue {
                    switch c {
                    case .text(let s): .string(s)
                    case .number(let n): n == n.rounded() && abs(n) < 1e15 ? .int(Int64(n)) : .double(n)
                    case .empty: .null
                    }
                }
                return try .json(Preview(title: table.title, range: table.rangeText, zone: table.zone, columns: table.columns.map(\.field),
                                         labels: table.columns.map(\.label), rows: table.rows.map { $0.map(json) }, totals: table.totals?.map(json)))
            }
        }
    }
}
