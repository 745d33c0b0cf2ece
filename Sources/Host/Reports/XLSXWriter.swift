import Foundation
import ZIPFoundation

/// A report's table as an Office Open XML spreadsheet (.xlsx) that Excel, WPS and LibreOffice open: one sheet,
/// a bold frozen header row, numbers as numbers, text as inline strings, a bold totals row. The parts are
/// written as XML and zipped (deflate) in memory with ZIPFoundation.
enum XLSXWriter {
    static let contentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    static func workbook(_ table: ReportTable, created: Date) throws -> [UInt8] {
        let archive = try Archive(accessMode: .create)
        func add(_ path: String, _ xml: String) throws {
            let data = Data(xml.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), modificationDate: created,
                                 compressionMethod: .deflate) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        let declaration = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
        try add("[Content_Types].xml", declaration + """
            <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
            <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
            <Default Extension="xml" ContentType="application/xml"/>\
            <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
            <Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
            <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
            <Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>\
            </Types>
            """)
        try add("_rels/.rels", declaration + """
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
            <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
            <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>\
            </Relationships>
            """)
        try add("docProps/core.xml", declaration + """
            <cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" \
            xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" \
            xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\
            <dc:title>\(escape(table.title))</dc:title><dc:creator>synchost</dc:creator>\
            <dcterms:created xsi:type="dcterms:W3CDTF">\(w3c(created))</dcterms:created>\
            </cp:coreProperties>
            """)
        try add("xl/workbook.xml", declaration + """
            <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
            xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
            <sheets><sheet name="\(escape(sheetName(table.title)))" sheetId="1" r:id="rId1"/></sheets></workbook>
            """)
        try add("xl/_rels/workbook.xml.rels", declaration + """
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
            <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>\
            <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
            </Relationships>
            """)
        // Style 0: normal; 1: bold (header, totals).
        try add("xl/styles.xml", declaration + """
            <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
            <fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
            <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
            <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
            <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
            <cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
            <xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>\
            <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
            </styleSheet>
            """)
        try add("xl/worksheets/sheet1.xml", sheet(table, declaration: declaration))
        guard let data = archive.data else { throw HostError.unavailable("xlsx: the archive has no data") }
        return Array(data)
    }

    static func sheet(_ table: ReportTable, declaration: String) -> String {
        var out = declaration + #"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#
        out += #"<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>"#
        // Widths from the longest value of each column (CJK characters count double), 8 to 60.
        out += "<cols>"
        for (i, c) in table.columns.enumerated() {
            let longest = ([c.label] + table.rows.prefix(1000).map { $0[i].display }).map { s in s.reduce(0) { $0 + ($1.unicodeScalars.first!.value > 0x2E80 ? 2 : 1) } }.max() ?? 8
            out += #"<col min="\#(i + 1)" max="\#(i + 1)" width="\#(min(60, max(8, longest + 2)))" customWidth="1"/>"#
        }
        out += "</cols><sheetData>"
        var rowNumber = 0
        func row(_ cells: [ReportCell], bold: Bool) {
            rowNumber += 1
            out += #"<row r="\#(rowNumber)">"#
            for (i, cell) in cells.enumerated() {
                let ref = column(i) + String(rowNumber)
                let style = bold ? #" s="1""# : ""
                switch cell {
                case .number(let n) where n.isFinite:
                    out += #"<c r="\#(ref)"\#(style)><v>\#(ReportCell.format(n))</v></c>"#
                case .empty:
                    continue
                default:
                    out += #"<c r="\#(ref)"\#(style) t="inlineStr"><is><t xml:space="preserve">\#(escape(cell.display))</t></is></c>"#
                }
            }
            out += "</row>"
        }
        row(table.columns.map { .text($0.label) }, bold: true)
        for r in table.rows { row(r, bold: false) }
        if let totals = table.totals { row(totals, bold: true) }
        out += "</sheetData></worksheet>"
        return out
    }

    /// A, B, … Z, AA, AB, …
    static func column(_ index: Int) -> String {
        var n = index + 1, s = ""
        while n > 0 {
            let r = (n - 1) % 26
            s = String(UnicodeScalar(UInt8(65 + r))) + s
            n = (n - 1) / 26
        }
        return s
    }

    /// Excel's rules: at most 31 characters, none of : \ / ? * [ ].
    static func sheetName(_ title: String) -> String {
        let cleaned = String(title.filter { !":\\/?*[]".contains($0) }.prefix(31)).trimmingCharacters(in: .whitespaces)
        return cleaned.isEmpty ? "Report" : cleaned
    }

    /// XML text: the five entities escaped, characters XML 1.0 cannot carry dropped.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                if u.value < 0x20 && u != "\t" && u != "\n" && u != "\r" { continue }
                if u.value == 0xFFFE || u.value == 0xFFFF { continue }
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    static func w3c(_ d: Date) -> String {
        String((ISOTime.string(d) ?? "1970-01-01T00:00:00.000Z").prefix(19)) + "Z"
    }
}
