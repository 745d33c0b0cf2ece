import Foundation
import PluginAPI

/// A report's table as the files and texts it is sent as: CSV (UTF-8 with a BOM, as the export), an HTML table
/// for the mail body, and a short text summary (range, rows, totals, the first rows) for channels that carry
/// neither files nor HTML.
enum ReportRendering {
    /// The mail body shows at most this many rows; the files carry them all.
    static let htmlRows = 500

    static func csv(_ t: ReportTable) -> [UInt8] {
        var out = ExportRoutes.csvHeader(t.columns.map(\.label))
        func line(_ cells: [ReportCell]) {
            for (i, c) in cells.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                ExportRoutes.csvField(c.display, into: &out)
            }
            out += [13, 10]
        }
        for r in t.rows { line(r) }
        if let totals = t.totals { line(totals) }
        return out
    }

    static func html(_ t: ReportTable, generated: String) -> String {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
                .replacingOccurrences(of: "\"", with: "&quot;")
        }
        let cell = "border:1px solid #d0d7de;padding:4px 8px"
        var out = "<!DOCTYPE html><html lang=\"\(t.language)\"><head><meta charset=\"utf-8\"><title>\(esc(t.title))</title></head>"
        out += "<body style=\"font-family:sans-serif;color:#1f2328\"><h2 style=\"margin:0 0 4px\">\(esc(t.title))</h2>"
        out += "<p style=\"margin:0 0 12px;color:#59636e\">\(esc(subtitle(t, generated: generated)))</p>"
        out += "<table style=\"border-collapse:collapse;font-size:14px\"><thead><tr>"
        for c in t.columns { out += "<th style=\"\(cell);background:#f6f8fa;text-align:left\">\(esc(c.label))</th>" }
        out += "</tr></thead><tbody>"
        func row(_ cells: [ReportCell], bold: Bool) {
            out += "<tr>"
            for c in cells {
                let align = if case .number = c { ";text-align:right" } else { "" }
                out += "<td style=\"\(cell)\(align)\(bold ? ";font-weight:bold" : "")\">\(esc(c.display))</td>"
            }
            out += "</tr>"
        }
        for r in t.rows.prefix(htmlRows) { row(r, bold: false) }
        if let totals = t.totals { row(totals, bold: true) }
        out += "</tbody></table>"
        if t.rows.count > htmlRows {
            out += "<p style=\"color:#59636e\">\(t.language == "zh-CN" ? "仅显示前 \(htmlRows) 行，完整数据见附件" : "The first \(htmlRows) rows; the attachments have them all").</p>"
        }
        out += "</body></html>"
        return out
    }

    /// "实例 g · grade_stats · 2026-11-26 – 2026-12-02（Asia/Shanghai）· 7 行 · 生成于 …"
    static func subtitle(_ t: ReportTable, generated: String) -> String {
        t.language == "zh-CN"
            ? "实例 \(t.instance) · \(t.collection) · \(t.rangeText)（\(t.zone)）· \(t.rows.count) 行 · 生成于 \(generated)"
            : "Instance \(t.instance) · \(t.collection) · \(t.rangeText) (\(t.zone)) · \(t.rows.count) rows · generated \(generated)"
    }

    /// The text every channel gets: what it is, the totals, the first rows, the files and the link.
    static func summary(_ t: ReportTable, generated: String, files: [String], link: String?) -> String {
        let zh = t.language == "zh-CN"
        var lines = ["\(zh ? "报表" : "Report") \(t.title)", subtitle(t, generated: generated)]
        if let totals = t.totals {
            let parts = zip(t.columns, totals).compactMap { c, v -> String? in
                if case .number = v { "\(c.label) \(v.display)" } else { nil }
            }
            lines.append((zh ? "合计：" : "Totals: ") + parts.joined(separator: zh ? "，" : ", "))
        }
        if !t.rows.isEmpty {
            lines.append("")
            for r in t.rows.prefix(10) {
                lines.append(zip(t.columns, r).map { c, v in "\(c.label) \(v.display)" }.joined(separator: " · "))
            }
            if t.rows.count > 10 { lines.append(zh ? "……共 \(t.rows.count) 行" : "… \(t.rows.count) rows in all") }
        } else {
            lines.append(zh ? "（范围内没有数据）" : "(no records in the range)")
        }
        if !files.isEmpty { lines.append((zh ? "附件：" : "Files: ") + files.joined(separator: ", ")) }
        if let link { lines.append(link) }
        return lines.joined(separator: "\n")
    }

    /// The outbox message of one firing: subject, summary text, the HTML table and the files asked for.
    static func message(_ spec: ReportSpec, _ t: ReportTable, fire: Date, zone: TimeZone, now: Date) throws -> OutgoingMessage {
        let generated = ReportTable.FieldValue.time(now, zone).text
        let stem = fileStem(spec, t, fire: fire, zone: zone)
        var attachments: [MessageAttachment] = []
        if spec.formats.contains(.csv) { attachments.append(MessageAttachment(filename: stem + ".csv", contentType: "text/csv; charset=utf-8", data: csv(t))) }
        if spec.formats.contains(.xlsx) {
            attachments.append(MessageAttachment(filename: stem + ".xlsx", contentType: XLSXWriter.contentType, data: try XLSXWriter.workbook(t, created: now)))
        }
        let subject = "\(t.language == "zh-CN" ? "【报表】" : "[Report] ")\(spec.name) · \(t.rangeText)"
        var text = summary(t, generated: generated, files: attachments.map(\.filename), link: spec.link)
        if text.utf8.count > Outbox.maxText { text = String(decoding: Array(text.utf8.prefix(Outbox.maxText - 4)), as: UTF8.self) + "…" }
        return OutgoingMessage(subject: subject, text: text, recipients: spec.recipients,
                               html: spec.formats.contains(.html) ? html(t, generated: generated) : nil, attachments: attachments)
    }

    /// `guanke-daily-2026-12-03`: the report's id and its fire day.
    static func fileStem(_ spec: ReportSpec, _ t: ReportTable, fire: Date, zone: TimeZone) -> String {
        "\(spec.id)-\(Retention.day(fire, zone: zone))"
    }
}
