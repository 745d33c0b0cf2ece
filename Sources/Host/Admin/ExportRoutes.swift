import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PluginAPI

/// `GET /api/v1/instances/{id}/export/{collection}?format=csv|json&fields=…`: every live record of a
/// collection (the same filters, key range and order as a list), streamed page by page — never held whole.
/// CSV (UTF-8 with a BOM, so Excel and WPS read Chinese right) has one column per field: `fields` names them
/// (`@key`, `@synced_at`, `@changed_at` or a data path like `parts.score`), else the key and the first page's
/// top-level fields. JSON is one array of `{key, data, synced_at, changed_at}`.
struct ExportRoutes {
    let store: any HostDatabase
    let registry: PluginRegistry
    static let pageSize = 1000
    static let reserved: Set<String> = DataRoutes.reserved.union(["format", "fields"])

    func add(to api: RouterGroup<AdminRequestContext>) {
        api.get("instances/:id/export/:collection") { request, context -> Response in
            let id = try context.parameters.require("id"), collection = try context.parameters.require("collection")
            let p = request.uri.queryParameters
            let format = p.get("format").map { String($0) } ?? "csv"
            guard format == "csv" || format == "json" else { throw HostError.invalid("format must be csv or json") }
            guard let instance = try await store.instance(id: id) else { throw HostError.notFound("no instance \(id.debugDescription)") }
            guard let plugin = registry.plugin(named: instance.plugin) else { throw HostError.unavailable("plugin \(instance.plugin) is not loaded") }
            guard plugin.manifest.collections.contains(where: { $0.name == collection }) else {
                throw HostError.notFound("\(plugin.name) has no collection \(collection.debugDescription)")
            }
            var q = RecordQuery()
            q.limit = Self.pageSize
            if let v = p.get("order") {
                guard let o = RecordQuery.Order(rawValue: String(v)) else { throw HostError.invalid("order must be key, synced_at or changed_at") }
                q.order = o
            }
            q.descending = p.get("desc") == "true"
            q.keyFrom = p.get("from").map { String($0) }
            q.keyTo = p.get("to").map { String($0) }
            for (name, value) in p where !Self.reserved.contains(String(name)) { q.filters.append((String(name), String(value))) }
            q = try q.validated()
            var fields = (p.get("fields").map { String($0) } ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard fields.count <= 200 else { throw HostError.invalid("fields: at most 200") }
            // The first page is read before answering, so a bad query is a clear error rather than a cut stream.
            let first = try await store.records(instance: id, collection: collection, query: q)
            if fields.isEmpty { fields = ["@key"] + Self.topLevelFields(first.records) }
            let store = self.store, query = q, columns = fields
            let name = "\(id)-\(collection).\(format)"
            let headers: HTTPFields = [
                .contentType: format == "csv" ? "text/csv; charset=utf-8" : "application/json",
                .contentDisposition: "attachment; filename=\"\(name)\"",
                .cacheControl: "no-store",
            ]
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                var page = first
                var written = 0
                try await writer.write(ByteBuffer(bytes: format == "csv" ? Self.csvHeader(columns) : Array("[".utf8)))
                while true {
                    var out: [UInt8] = []
                    out.reserveCapacity(page.records.count * 256)
                    for r in page.records {
                        if format == "csv" {
                            Self.csvRow(r, columns, into: &out)
                        } else {
                            if written > 0 { out.append(UInt8(ascii: ",")) }
                            Self.jsonRow(r, into: &out)
                        }
                        written += 1
                    }
                    try await writer.write(ByteBuffer(bytes: out))
                    guard let next = page.nextCursor else { break }
                    var more = query
                    more.cursor = next
                    page = try await store.records(instance: id, collection: collection, query: more)
                }
                if format == "json" { try await writer.write(ByteBuffer(string: "]")) }
                try await writer.finish(nil)
            })
        }
    }

    /// The fields of the records' data objects, in the order first seen.
    static func topLevelFields(_ records: [StoredRecord]) -> [String] {
        var seen = Set<String>(), order: [String] = []
        for r in records {
            guard case .object(let o) = r.json else { continue }
            for k in o.keys.sorted() where seen.insert(k).inserted { order.append(k) }
        }
        return order
    }

    static func csvHeader(_ columns: [String]) -> [UInt8] {
        var out: [UInt8] = [0xEF, 0xBB, 0xBF]
        for (i, c) in columns.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            csvField(c, into: &out, guardFormula: false)
        }
        out += [13, 10]
        return out
    }

    static func csvRow(_ r: StoredRecord, _ columns: [String], into out: inout [UInt8]) {
        let data = r.json
        for (i, c) in columns.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            switch c {
            case "@key": csvField(r.key, into: &out)
            case "@synced_at": csvField(ISOTime.string(r.syncedAt) ?? "", into: &out)
            case "@changed_at": csvField(ISOTime.string(r.changedAt) ?? "", into: &out)
            default:
                var v: JSONValue? = data
                for part in c.split(separator: ".") { v = v?[String(part)] }
                switch v {
                case nil, .null?: break
                case .string(let s)?: csvField(s, into: &out)
                case let other?: csvField(String(decoding: other.jsonBytes, as: UTF8.self), into: &out)
                }
            }
        }
        out += [13, 10]
    }

    /// RFC 4180 quoting; a value starting with = + - @ is prefixed with ' so a spreadsheet never runs it as a formula
    /// (the column names are ours: `@key` stays as it is).
    static func csvField(_ s: String, into out: inout [UInt8], guardFormula: Bool = true) {
        var text = s
        if guardFormula, let f = text.first, "=+-@".contains(f), Double(text) == nil { text = "'" + text }
        let needsQuotes = text.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
        if !needsQuotes { out += Array(text.utf8); return }
        out.append(UInt8(ascii: "\""))
        for b in text.utf8 {
            if b == UInt8(ascii: "\"") { out.append(b) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
    }

    static func jsonRow(_ r: StoredRecord, into out: inout [UInt8]) {
        out += Array("{\"key\":".utf8)
        out += JSONValue.string(r.key).jsonBytes
        out += Array(",\"data\":".utf8)
        out += r.data.isEmpty ? Array("null".utf8) : r.data
        out += Array(",\"synced_at\":\"\(ISOTime.string(r.syncedAt) ?? "")\",\"changed_at\":\"\(ISOTime.string(r.changedAt) ?? "")\"}".utf8)
    }
}
