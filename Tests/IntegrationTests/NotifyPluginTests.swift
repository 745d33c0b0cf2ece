import AliyunSMSSimulator
import Foundation
import PluginAPI
import Testing
import WeComSimulator

@testable import Host
@testable import TestKit

/// A real SMTP server (aiosmtpd, installed by scripts/setup.sh) with a fresh self-signed certificate:
/// STARTTLS on one port, implicit TLS on the other, AUTH required.
final class SMTPTestServer: @unchecked Sendable {
    let process = Process()
    let stdin = Pipe()
    let dir: URL
    var starttlsPort = 0, implicitPort = 0
    var cert: URL { dir.appendingPathComponent("cert.pem") }
    var mailbox: URL { dir.appendingPathComponent("mail.jsonl") }
    /// The test tools' Python (scripts/setup.sh's venv: aiosmtpd, openpyxl).
    static var python: String {
        let venv = Build.packageRoot.appendingPathComponent(".venv-test/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "/usr/bin/python3"
    }

    init(user: String, password: String) async throws {
        dir = try temporaryDirectory("smtp")
        let key = dir.appendingPathComponent("key.pem")
        let made = try await runProcess("/usr/bin/env", ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.path, "-out", cert.path,
                                                         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        #expect(made.status == 0, "\(made.stderr)")
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [Build.packageRoot.appendingPathComponent("Tests/Fixtures/SMTP/smtp_server.py").path, cert.path, key.path, mailbox.path, user, password]
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = stdin
        try process.run()
        let line: String = try await withCheckedThrowingContinuation { c in
            Thread.detachNewThread {
                var data = Data()
                while !data.contains(0x0A) {
                    let chunk = out.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    data.append(chunk)
                }
                c.resume(returning: String(decoding: data, as: UTF8.self))
            }
        }
        let parts = line.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard parts.count == 3, parts[0] == "READY", let a = Int(parts[1]), let b = Int(parts[2]) else {
            throw HostError.unavailable("the SMTP test server did not start (is aiosmtpd installed? run scripts/setup.sh): \(line)")
        }
        starttlsPort = a
        implicitPort = b
    }

    var messages: [JSONValue] {
        ((try? String(contentsOf: mailbox, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }
    }

    /// Closing stdin ends the server; it is reaped (and its files removed) on a thread of its own, so a
    /// `defer` never blocks the concurrency pool.
    func stop() {
        try? stdin.fileHandleForWriting.close()
        let (process, dir) = (self.process, self.dir)
        Thread.detachNewThread {
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: dir)
        }
    }
}

@Suite("Notify plugin and the outbox", .serialized)
struct NotifyPluginTests {
    static func json(_ v: JSONValue) -> String { String(decoding: v.jsonBytes, as: UTF8.self) }

    @Test(.needs(.python)) func everyChannelDeliversForRealAndFailuresEndAsTheyShould() async throws {
        let wecom = WeComSimulator()
        try await wecom.start()
        defer { wecom.stop() }
        wecom.addRobot(key: "robot-key-1")
        let sms = AliyunSMSSimulator()
        let smsURL = try await sms.start()
        defer { sms.stop() }
        let smtp = try await SMTPTestServer(user: "mailer", password: "s3cret-pw")
        defer { smtp.stop() }
        let host = try await TestHost()
        func add(_ id: String, _ config: JSONValue) async throws {
            let r = try await host.api("POST", "/instances", Self.json(["id": .string(id), "plugin": "notify", "config": config]))
            #expect(r.status == 201, "\(r.body)")
        }
        try await add("robot", ["channel": "wecom_robot", "webhook_key": "robot-key-1", "base_url": .string(wecom.server.baseURL)])
        try await add("app", ["channel": "wecom_app", "corp_id": .string(wecom.data.corpID), "corp_secret": .string(wecom.data.corpSecret),
                              "agent_id": "1000002", "base_url": .string(wecom.server.baseURL), "recipients": ["user001", "nobody"]])
        try await add("sms", ["channel": "sms_aliyun", "access_key_id": .string(sms.accessKeyID), "access_key_secret": .string(sms.accessKeySecret),
                              "sign_name": "同步助手", "template_code": "SMS_15305001", "base_url": .string(smsURL), "recipients": ["13800000000"]])
        try await add("mail", ["channel": "email_smtp", "smtp_url": .string("smtp://127.0.0.1:\(smtp.starttlsPort)"), "smtp_username": "mailer",
                               "smtp_password": "s3cret-pw", "from": "synchost@example.com", "recipients": ["ops@example.com", "pm@example.org"],
                               "ca_file": .string(smtp.cert.path)])
        try await add("mails", ["channel": "email_smtp", "smtp_url": .string("smtps://127.0.0.1:\(smtp.implicitPort)"), "smtp_username": "mailer",
                                "smtp_password": "s3cret-pw", "from": "synchost@example.com", "recipients": ["ops@example.com"], "ca_file": .string(smtp.cert.path)])
        #expect(try await host.api("POST", "/instances", Self.json(["id": "bad", "plugin": "notify", "config": ["channel": "pager"]])).status == 400)

        // Every channel, for real over loopback.
        let text = "项目 P-1001 状态: 进行中 → 已完成"
        var ids: [String: String] = [:]
        for c in ["robot", "app", "sms", "mail", "mails"] { ids[c] = try await host.testMessage(c, text, subject: "状态变更") }
        for (c, id) in ids {
            let n = try await host.waitForNotification(id)
            #expect(n.state == .sent, "\(c): \(n.state) \(n.lastError ?? "")")
        }
        #expect(wecom.delivered.contains { $0.channel == "webhook:robot-key-1" && $0.content.contains(text) })
        #expect(wecom.delivered.contains { $0.channel == "app:1000002" && $0.touser == "user001" })
        #expect(try await host.store.notification(id: ids["app"]!)?.detail == "invaliduser: nobody")
        #expect(sms.sent.count == 1 && sms.sent[0].templateParam.contains("已完成") && sms.sent[0].phoneNumbers == ["13800000000"])
        let mails = smtp.messages
        #expect(mails.count == 2, "\(mails)")
        #expect(mails.allSatisfy { $0["tls"] == true })
        #expect(mails.first { $0["to"]?.arrayValue?.count == 2 }?["data"]?.stringValue?.contains("Subject: =?UTF-8?B?") == true)
        let body = mails.first?["data"]?.stringValue ?? ""
        let encoded = body.components(separatedBy: "\r\n\r\n").dropFirst().joined().replacingOccurrences(of: "\r\n", with: "").replacingOccurrences(of: "\n", with: "")
        #expect(Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) } == text)

        // A failing channel is retried with backoff, then dead with the error kept.
        sms.faults.flowControlled = 10
        let limited = try await host.waitForNotification(try await host.testMessage("sms", "again"))
        #expect(limited.state == .dead && limited.attempts == 3 && limited.lastError?.contains("isv.BUSINESS_LIMIT_CONTROL") == true, "\(limited)")
        sms.faults = .init()

        // An SMS timeout is an unknown outcome, never retried blindly.
        #expect(try await host.api("PATCH", "/instances/sms", #"{"config": {"timeout_ms": 300}}"#).status == 200)
        sms.faults.latencyMs = 1_500
        let before = sms.requests
        let slow = try await host.waitForNotification(try await host.testMessage("sms", "slow"))
        #expect(slow.state == .unknown && slow.attempts == 1, "\(slow)")
        // Past every retry time and lease: the outbox finds nothing to deliver, and the SMS went out once.
        host.clock.advance(by: 3600)
        #expect(try await host.kernel.outbox!.pass() == 0)
        #expect(sms.requests == before + 1)
        host.clock.advance(by: -3600)
        sms.faults = .init()

        // A wrong secret: the simulator's own signature check refuses it; the channel is disabled.
        try await add("sms2", ["channel": "sms_aliyun", "access_key_id": .string(sms.accessKeyID), "access_key_secret": "wrong",
                               "sign_name": "x", "template_code": "SMS_1", "base_url": .string(smsURL), "recipients": ["13800000000"]])
        let forged = try await host.waitForNotification(try await host.testMessage("sms2", "x"))
        #expect(forged.state == .dead && forged.lastError?.contains("SignatureDoesNotMatch") == true, "\(forged)")
        #expect(sms.rejected.contains("SignatureDoesNotMatch"))
        #expect(try await host.store.instance(id: "sms2")?.enabled == false)

        // A removed robot (93000): dead, channel disabled with the reason. Wrong SMTP password: dead, disabled.
        try await add("robot2", ["channel": "wecom_robot", "webhook_key": "no-such-key", "base_url": .string(wecom.server.baseURL)])
        let removed = try await host.waitForNotification(try await host.testMessage("robot2", "x"))
        #expect(removed.state == .dead && removed.lastError?.contains("93000") == true)
        #expect(try await host.store.instance(id: "robot2")?.enabled == false)
        #expect(try await host.api("PATCH", "/instances/mail", #"{"config": {"smtp_password": "wrong"}}"#).status == 200)
        let denied = try await host.waitForNotification(try await host.testMessage("mail", "x"))
        #expect(denied.state == .dead && denied.lastError?.contains("SMTP") == true, "\(denied)")

        // The outbox API: list by state, one, 404, bad state 400; secrets never shown.
        let dead = try await host.api("GET", "/notifications?state=dead")
        #expect((dead.json?["notifications"]?.arrayValue?.count ?? 0) >= 3)
        #expect(try await host.api("GET", "/notifications/nope").status == 404)
        #expect(try await host.api("GET", "/notifications?state=lost").status == 400)
        #expect(try await host.api("POST", "/notifications/test", #"{"channel": "ghost", "text": "x"}"#).status == 404)
        let all = try await host.api("GET", "/notifications?limit=100")
        #expect(!all.body.contains("s3cret-pw") && !all.body.contains(sms.accessKeySecret) && !all.body.contains("robot-key-1"))
        #expect(!host.log.all.contains { $0.contains("s3cret-pw") || $0.contains(wecom.data.corpSecret) || $0.contains("robot-key-1") })
        await host.stop()
    }

    /// The simulator's signature check against the worked example in Aliyun's documentation
    /// (help.aliyun.com/document_detail/56189): so the plugin is verified against the documented algorithm.
    @Test func theSMSSimulatorsSignatureMatchesAliyunsDocumentedExample() {
        let params: [(String, String)] = [
            ("AccessKeyId", "testId"), ("Action", "SendSms"), ("Format", "XML"), ("OutId", "123"), ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"), ("SignName", "阿里云短信测试专用"), ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"), ("SignatureVersion", "1.0"), ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", #"{"customer":"test"}"#), ("Timestamp", "2017-07-12T02:42:19Z"), ("Version", "2017-05-25"),
        ]
        #expect(AliyunSMSSimulator.expectedSignature(params, secret: "testSecret", method: "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4=")
    }

    @Test func theOutboxSurvivesARestartWithNothingLostOrSentTwice() async throws {
        let wecom = WeComSimulator()
        try await wecom.start()
        defer { wecom.stop() }
        wecom.addRobot(key: "k")
        let first = try await TestHost()
        #expect(try await first.api("POST", "/instances", #"{"id": "robot", "plugin": "notify", "config": {"channel": "wecom_robot", "webhook_key": "k", "base_url": "\#(wecom.server.baseURL)", "max_per_minute": 600}}"#).status == 201)
        let sent = try await first.waitForNotification(try await first.testMessage("robot", "before the restart"))
        #expect(sent.state == .sent)
        // Delivery stops (the host is going down); three messages are queued and persisted, none delivered.
        await first.kernel.outbox!.stop()
        var queued: [String] = []
        for i in 1...3 { queued.append(try await first.testMessage("robot", "queued \(i)")) }
        #expect(wecom.delivered.count == 1)
        #expect(try await first.store.notification(id: queued[0])?.state == .pending)
        await first.stop(keepFiles: true)

        let second = try await TestHost(reusing: first.directory)
        for id in queued { #expect(try await second.waitForNotification(id).state == .sent) }
        // Past every lease and retry: nothing is left to deliver again.
        second.clock.advance(by: 3600)
        #expect(try await second.kernel.outbox!.pass() == 0)
        let texts = wecom.delivered.map(\.content)
        #expect(texts.count == 4 && Set(texts).count == 4, "\(texts)")
        await second.stop()
    }

    /// The robot's limit (20 per window; a minute for real, 15 s here — long enough that a loaded machine still
    /// delivers the eager channel's first messages inside the window its other sender filled): the channel spaces
    /// its messages so none is refused; a channel configured too fast is refused by the platform, and the outbox
    /// retries until every message is delivered — queued, never dropped.
    @Test func robotMessagesOverTheRateLimitAreQueuedNotDropped() async throws {
        var data = WeComSimulator.Data()
        data.robotWindow = .seconds(15)
        let wecom = WeComSimulator(data)
        try await wecom.start()
        defer { wecom.stop() }
        wecom.addRobot(key: "paced")
        wecom.addRobot(key: "eager")
        let host = try await TestHost(outboxRetryBase: .milliseconds(500), outboxMaxAttempts: 10)
        // 20 per 15 s = 80 a minute; "paced" keeps under it (70), "eager" claims 750 times that.
        #expect(try await host.api("POST", "/instances", #"{"id": "paced", "plugin": "notify", "config": {"channel": "wecom_robot", "webhook_key": "paced", "base_url": "\#(wecom.server.baseURL)", "max_per_minute": 70}}"#).status == 201)
        #expect(try await host.api("POST", "/instances", #"{"id": "eager", "plugin": "notify", "config": {"channel": "wecom_robot", "webhook_key": "eager", "base_url": "\#(wecom.server.baseURL)", "max_per_minute": 60000}}"#).status == 201)
        // Someone else just used up the eager robot's window: its first deliveries are certain to be refused.
        for _ in 0..<20 {
            #expect(try await request("POST", "\(wecom.server.baseURL)/cgi-bin/webhook/send?key=eager", body: #"{"msgtype": "text", "text": {"content": "other sender"}}"#).status == 200)
        }
        var paced: [String] = [], eager: [String] = []
        for i in 0..<25 {
            paced.append(try await host.testMessage("paced", "paced \(i)"))
            eager.append(try await host.testMessage("eager", "eager \(i)"))
        }
        for id in paced + eager { #expect(try await host.waitForNotification(id, timeout: .seconds(150)).state == .sent) }
        let texts = wecom.delivered.map(\.content)
        #expect(Set(texts.filter { $0.contains("paced ") }).count == 25 && Set(texts.filter { $0.contains("eager ") }).count == 25)
        #expect(texts.filter { !$0.contains("other sender") }.count == 50, "each message delivered once")
        // Only the eager channel ran into the platform's limit; its refused messages were retried, not lost.
        #expect(wecom.robotRefusals > 0)
        var q = NotificationQuery()
        q.channel = "paced"
        #expect(try await host.store.notifications(q).allSatisfy { $0.attempts == 1 })
        await host.stop()
    }

    @Test func wecomAlertsAreSentOnceThroughTheConfiguredChannel() async throws {
        let wecom = WeComSimulator()
        try await wecom.start()
        defer { wecom.stop() }
        wecom.addRobot(key: "alerts")
        let host = try await TestHost()
        #expect(try await host.api("POST", "/instances", #"{"id": "ops", "plugin": "notify", "config": {"channel": "wecom_robot", "webhook_key": "alerts", "base_url": "\#(wecom.server.baseURL)", "max_per_minute": 600}}"#).status == 201)
        #expect(try await host.api("POST", "/instances", #"{"id": "corp", "plugin": "wecom", "config": {"corp_id": "\#(wecom.data.corpID)", "corp_secret": "\#(wecom.data.corpSecret)", "base_url": "\#(wecom.server.baseURL)", "alert_channel": "ops"}}"#).status == 201)
        wecom.faults.noPermission = true
        for _ in 0..<3 { _ = try await host.run("corp", "contacts_incremental") }
        var q = NotificationQuery()
        q.channel = "ops"
        func sent(_ count: Int) async throws -> [OutboxNotification] {
            var alerts: [OutboxNotification] = []
            for _ in 0..<200 {
                alerts = try await host.store.notifications(q)
                if alerts.count >= count && alerts.allSatisfy(\.state.isFinal) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            return alerts
        }
        // The host's default rules with this instance's alert_channel: health below 60 (critical), sent once
        // however often the rules are evaluated.
        try await host.evaluateAlerts()
        try await host.evaluateAlerts()
        var alerts = try await sent(1)
        #expect(alerts.count == 1, "\(alerts.map(\.message.text))")
        // Two hours on without a successful sync: the delay warning fires, the health alert (still holding) is
        // repeated once at its 60-minute interval — and evaluating twice sends nothing twice.
        host.clock.advance(by: 2 * 3600 + 60)
        try await host.evaluateAlerts()
        try await host.evaluateAlerts()
        alerts = try await sent(3)
        #expect(alerts.count == 3, "\(alerts.map(\.message.text))")
        #expect(alerts.allSatisfy { $0.state == .sent })
        #expect(wecom.delivered.filter { $0.channel == "webhook:alerts" }.count == 3)
        #expect(alerts.filter { $0.message.text.contains("reminder 2") }.count == 1, "\(alerts.map(\.message.text))")
        #expect(alerts.filter { $0.message.text.contains("no successful sync") }.count == 1, "\(alerts.map(\.message.text))")
        #expect(alerts.contains { ($0.message.subject ?? "").contains("critical") && $0.message.text.contains("health score") }, "\(alerts.map(\.message))")
        await host.stop()
    }
}
