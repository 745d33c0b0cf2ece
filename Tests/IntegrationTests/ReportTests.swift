import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// #19 part 3: a stored report — a plugin view's rows over a date range relative to its fire time, summed —
/// sent on its schedule through the outbox: e-mail with the HTML table, a CSV and an XLSX attachment that Python's
/// openpyxl reads back with the right numbers; fired once however many replicas look.
@Suite("Reports", .serialized)
struct ReportTests {
    static let zone = TimeZone(identifier: "Asia/Shanghai")!

    /// Grade stats for the days 0-12 before `now` (Shanghai): day n has grade_9 = 10n + 3, grade_1 = n.
    static func seedGradeStats(_ store: any HostDatabase, instance: String, now: Date) async throws -> [String: (Int, Int)] {
        var byDay: [String: (Int, Int)] = [:]
        var records: [(String, JSONValue)] = []
        for n in 0...12 {
            let day = Retention.day(now.addingTimeInterval(-Double(n) * 86400), zone: zone)
            byDay[day] = (10 * n + 3, n)
            records.append((day, ["date": .string(day), "grade_9": .int(Int64(10 * n + 3)), "grade_1": .int(Int64(n)),
                                  "total_success": .int(Int64(11 * n + 3)), "complete": true]))
        }
        _ = try await store.upsert(page("grade_stats", records), instance: instance, runID: nil, now: now)
        return byDay
    }

    /// The seven days before the fire day (T-7..T-1), oldest first, computed here on their own.
    static func week(before fire: Date) -> [String] {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = zone
        let start = c.startOfDay(for: fire)
        return (1...7).reversed().map { Retention.day(c.date(byAdding: .day, value: -$0, to: start)!, zone: zone) }
    }

    static let daily = #"""
        {"id": "guanke-daily", "name": "管课每日 9元/1元", "instance": "g", "view": "grade_days", "fields": ["@key", "grade_9", "grade_1"],
         "date_field": "@key", "range": "T-7..T-1", "sums": ["grade_9", "grade_1"], "cron": "0 8 * * *", "channels": ["mail"],
         "recipients": ["sales@example.com"], "formats": ["html", "csv", "xlsx"]}
        """#

    @Test(.needs(.python)) func aScheduledReportArrivesByMailWithACSVAndAnXLSXThatOpenpyxlReadsBack() async throws {
        let smtp = try await SMTPTestServer(user: "mailer", password: "report-pw-1")
        defer { smtp.stop() }
        let host = try await TestHost(startScheduler: false)
        #expect(try await host.api("POST", "/instances", #"{"id": "g", "plugin": "guanke", "enabled": false, "config": {"base_url": "http://127.0.0.1:9", "secret": "s", "timezone": "Asia/Shanghai"}}"#).status == 201)
        let mail = try await host.api("POST", "/instances", NotifyPluginTests.json([
            "id": "mail", "plugin": "notify", "config": ["channel": "email_smtp", "smtp_url": .string("smtp://127.0.0.1:\(smtp.starttlsPort)"),
                                                       "smtp_username": "mailer", "smtp_password": "report-pw-1", "from": "synchost@example.com",
                                                       "ca_file": .string(smtp.cert.path)]]))
        #expect(mail.status == 201, "\(mail.body)")
        let byDay = try await Self.seedGradeStats(host.store, instance: "g", now: host.clock.now)

        // Bad definitions are refused with what is wrong.
        for (body, says) in [
            (Self.daily.replacingOccurrences(of: "T-7..T-1", with: "last week"), "range"),
            (Self.daily.replacingOccurrences(of: "grade_days", with: "nope"), "has no view"),
            (Self.daily.replacingOccurrences(of: #"["mail"]"#, with: #"["g"]"#), "not a notification channel"),
            (Self.daily.replacingOccurrences(of: "0 8 * * *", with: "0 25 * * *"), "cron"),
            (Self.daily.replacingOccurrences(of: #""formats": ["html", "csv", "xlsx"]"#, with: #""formats": ["pdf"]"#), "pdf"),
            (Self.daily.replacingOccurrences(of: "}", with: #", "colour": "red"}"#), "colour"),
        ] {
            let r = try await host.api("POST", "/reports", body)
            #expect(r.status == 400 && r.body.contains(says), "\(says): \(r.status) \(r.body)")
        }
        let created = try await host.api("POST", "/reports", Self.daily)
        #expect(created.status == 201, "\(created.body)")
        #expect(try await host.api("POST", "/reports", Self.daily).status == 409)
        let nextText = try #require(created.json?["next_fire_at"]?.stringValue)
        let next = try ISOTime.parse(nextText, field: "next")
        var shanghai = Calendar(identifier: .gregorian)
        shanghai.timeZone = Self.zone
        #expect(shanghai.component(.hour, from: next) == 8 && shanghai.component(.minute, from: next) == 0, "08:00 in the instance's zone: \(nextText)")
        #expect(next > host.clock.now && next.timeIntervalSince(host.clock.now) <= 86400)

        // The preview at the fire time: the week before it, summed, with the view's labels.
        let week = Self.week(before: next)
        let g9 = week.map { byDay[$0]!.0 }, g1 = week.map { byDay[$0]!.1 }
        let preview = try #require(try await host.api("GET", "/reports/guanke-daily/preview?at=\(nextText)").json)
        #expect(preview["labels"] == ["日期", "9元", "1元"])
        #expect(preview["rows"]?.arrayValue?.map { $0.arrayValue?.first?.stringValue ?? "" } == week)
        #expect(preview["totals"] == ["合计", .int(Int64(g9.reduce(0, +))), .int(Int64(g1.reduce(0, +)))])

        // Not due yet: nothing. At 08:00 two replicas look at once: one mail.
        let runner: @Sendable () -> ReportRunner = { ReportRunner(store: host.store, registry: host.kernel.registry, events: nil, clock: host.clock.source, defaultZone: "UTC") }
        #expect(try await runner().fireDue().sent.isEmpty)
        host.clock.advance(by: next.timeIntervalSince(host.clock.now) + 30)
        async let a = runner().fireDue()
        async let b = runner().fireDue()
        let (ra, rb) = try await (a, b)
        #expect(ra.sent.count + rb.sent.count == 1 && ra.failed.isEmpty && rb.failed.isEmpty, "\(ra.summary) / \(rb.summary)")
        #expect(try await runner().fireDue().sent.isEmpty, "fired once per fire time")
        var q = NotificationQuery()
        q.channel = "mail"
        let queued = try await host.store.notifications(q)
        #expect(queued.count == 1)
        let sent = try await host.waitForNotification(try #require(queued.first?.id))
        #expect(sent.state == .sent, "\(sent.lastError ?? "")")
        let stored = try #require(try await host.api("GET", "/reports/guanke-daily").json)
        #expect(stored["last_failed"] == false && stored["last_outcome"]?.stringValue?.contains("7 row(s)") == true, "\(stored)")
        #expect(try ISOTime.parse(stored["next_fire_at"]?.stringValue ?? "", field: "n").timeIntervalSince(next) == 86400, "the next morning")

        // The notification lists its files by name and size, not their bytes.
        let listed = try #require(try await host.api("GET", "/notifications/\(sent.id)").json?["message"]?["attachments"]?.arrayValue)
        let day = Retention.day(next, zone: Self.zone)
        #expect(listed.compactMap { $0["filename"]?.stringValue } == ["guanke-daily-\(day).csv", "guanke-daily-\(day).xlsx"])
        #expect(listed.allSatisfy { ($0["size"]?.intValue ?? 0) > 0 && $0["data"] == nil })

        // The mail as a person's tools read it.
        let read = try await runProcess(SMTPTestServer.python, [Build.packageRoot.appendingPathComponent("Tests/Fixtures/Reports/read_report_mail.py").path,
                                                                  smtp.mailbox.path, "0"])
        #expect(read.status == 0, "\(read.stderr)")
        let got = try #require(try? JSONValue.parse(Array(read.stdout.utf8)), "\(read.stdout)")
        #expect(got["subject"]?.stringValue?.contains("管课每日 9元/1元") == true)
        #expect(got["html"]?.stringValue?.contains("<table") == true && got["html"]?.stringValue?.contains("9元") == true)
        #expect(got["text"]?.stringValue?.contains("合计：9元 \(g9.reduce(0, +))，1元 \(g1.reduce(0, +))") == true, "\(got["text"] ?? .null)")
        let csvLines = (got["csv"]?.stringValue ?? "").split(separator: "\r\n").map(String.init)
        #expect(csvLines.first == "日期,9元,1元" && csvLines.count == 9, "\(csvLines)")
        #expect(csvLines[1] == "\(week[0]),\(g9[0]),\(g1[0])" && csvLines.last == "合计,\(g9.reduce(0, +)),\(g1.reduce(0, +))")
        let rows = try #require(got["xlsx"]?["rows"]?.arrayValue)
        #expect(got["xlsx"]?["sheet"] == "管课每日 9元1元" && got["xlsx"]?["bold_header"] == true)
        #expect(rows.count == 9)
        #expect(rows[0] == ["日期", "9元", "1元"])
        for (i, d) in week.enumerated() {
            #expect(rows[i + 1] == [.string(d), .int(Int64(g9[i])), .int(Int64(g1[i]))], "numbers are numbers: \(rows[i + 1])")
        }
        #expect(rows[8] == ["合计", .int(Int64(g9.reduce(0, +))), .int(Int64(g1.reduce(0, +)))])

        // On demand: sent again (no dedup), the XLSX preview is a zip.
        let now = try await host.api("POST", "/reports/guanke-daily/run", "")
        #expect(now.status == 202 && now.json?["rows"] == 7, "\(now.body)")
        let xlsx = try await host.api("GET", "/reports/guanke-daily/preview?format=xlsx")
        #expect(xlsx.status == 200 && xlsx.body.hasPrefix("PK"))
        #expect(try await host.api("GET", "/reports/guanke-daily/preview?format=pdf").status == 400)
        #expect(try await host.api("DELETE", "/reports/guanke-daily").status == 204)
        #expect(try await host.api("GET", "/reports/guanke-daily").status == 404)
        #expect(try await host.api("GET", "/audit?target=guanke-daily").json?["entries"]?.arrayValue?.count == 2)
        await host.stop()
    }

    /// Grouping: one row per group with a count and sums; a report of a collection without a view gets its fields.
    @Test(arguments: Backend.available)
    func groupedReportsSumPerGroupAndTwoReplicasFireOnce(_ backend: Backend) async throws {
        let store = try await backend.open()
        let dir = try pluginDirectoryWithInTreePlugins()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kernel = Kernel(pluginDirectory: dir, logger: capturingLogger(CapturedLog()), store: store)
        _ = try kernel.registry.rescan()
        let i = freshInstance(), ch = freshInstance()
        try await store.createInstance(InstanceRecord(id: i, plugin: "vos", config: ["base_url": "http://127.0.0.1:9", "timezone": "Asia/Shanghai"]), schedules: [])
        try await store.createInstance(InstanceRecord(id: ch, plugin: "notify", config: ["channel": "wecom_robot", "webhook_key": "k", "base_url": "http://127.0.0.1:9"]),
                                       schedules: [])
        let now = Date(timeIntervalSince1970: 1_780_000_000)  // 2026-05-29 04:26 in Shanghai
        let yesterday = Retention.day(now.addingTimeInterval(-86400), zone: Self.zone), older = Retention.day(now.addingTimeInterval(-3 * 86400), zone: Self.zone)
        _ = try await store.upsert(page("cdrs", [
            ("a", ["date": .string(yesterday + " 10:00:00"), "account": "A", "fee": 1.5, "hold": 60]),
            ("b", ["date": .string(yesterday + " 11:00:00"), "account": "B", "fee": 2, "hold": 30]),
            ("c", ["date": .string(yesterday + " 12:00:00"), "account": "A", "fee": 0.25, "hold": 15]),
            ("d", ["date": .string(older + " 12:00:00"), "account": "A", "fee": 100, "hold": 1]),
        ]), instance: i, runID: nil, now: now)
        let spec = ReportSpec(id: "fees", name: "Fees", instance: i, collection: "cdrs", dateField: "date", range: "T-1", groupBy: ["account"],
                              sums: ["fee", "hold"], formats: [.csv], channels: [ch], cron: "0 8 * * *", language: "en")
        #expect(spec.problems.isEmpty, "\(spec.problems)")
        let (table, _) = try await ReportRunner(store: store, registry: kernel.registry, events: nil, clock: { now }, defaultZone: "UTC").table(spec, fire: now)
        #expect(table.columns.map(\.label) == ["account", "Records", "fee", "hold"])
        #expect(table.rows == [[.text("A"), .number(2), .number(1.75), .number(75)], [.text("B"), .number(1), .number(2), .number(30)]])
        #expect(table.totals == [.text("Total"), .number(3), .number(3.75), .number(105)])
        #expect(String(decoding: ReportRendering.csv(table), as: UTF8.self) == "\u{FEFF}account,Records,fee,hold\r\nA,2,1.75,75\r\nB,1,2,30\r\nTotal,3,3.75,105\r\n")

        // Two replicas at the fire time: one message (the claim), on this backend.
        let fire = try #require(try await ReportRunner(store: store, registry: kernel.registry, events: nil, clock: { now }, defaultZone: "UTC").nextFire(spec, after: now))
        try await store.saveReport(spec, nextFireAt: fire, now: now)
        let at = fire.addingTimeInterval(5)
        let all = try await store.reports()
        #expect(try await store.report(id: "fees")?.nextFireAt == fire, "\(all)")
        async let a = ReportRunner(store: store, registry: kernel.registry, events: nil, clock: { at }, defaultZone: "UTC").fireDue()
        async let b = ReportRunner(store: store, registry: kernel.registry, events: nil, clock: { at }, defaultZone: "UTC").fireDue()
        let (ra, rb) = try await (a, b)
        #expect(ra.sent.count + rb.sent.count == 1, "\(ra.summary) / \(rb.summary)")
        var q = NotificationQuery()
        q.channel = ch
        let sent = try await store.notifications(q)
        #expect(sent.count == 1 && sent[0].message.attachments.map(\.filename) == ["fees-\(Retention.day(fire, zone: Self.zone)).csv"])
        // A robot cannot carry files: the text names them.
        #expect(sent[0].message.text.contains("Files: fees-") && sent[0].message.withoutAttachments.text.contains("not attached"))
        #expect(try await store.deleteReport(id: "fees"))
    }

    @Test func dayRangesAndSheetNames() {
        #expect(DayRange("T-7..T-1") == DayRange("T-7 .. T-1") && DayRange("T-7..T-1")?.fromDaysBefore == 7)
        #expect(DayRange("T")?.toDaysBefore == 0 && DayRange("T-1..T-7") == nil && DayRange("yesterday") == nil && DayRange("T+1") == nil)
        let fire = Date(timeIntervalSince1970: 1_780_000_000)  // 2026-05-28 20:26 UTC, 2026-05-29 04:26 in Shanghai
        #expect(DayRange("T-7..T-1")!.days(firing: fire, in: Self.zone) == ("2026-05-22", "2026-05-28"))
        #expect(DayRange("T-1")!.days(firing: fire, in: TimeZone(identifier: "UTC")!) == ("2026-05-27", "2026-05-27"))
        #expect(XLSXWriter.column(0) == "A" && XLSXWriter.column(25) == "Z" && XLSXWriter.column(26) == "AA" && XLSXWriter.column(701) == "ZZ")
        #expect(XLSXWriter.sheetName("a/b:c[d]*?") == "abcd" && XLSXWriter.sheetName("[]") == "Report")
        #expect(XLSXWriter.escape("<a & \"b\">\u{01}") == "&lt;a &amp; &quot;b&quot;&gt;")
    }
}
