import Foundation
import PluginAPI

/// WeCom group robot: `POST /cgi-bin/webhook/send?key=KEY`, text ≤ 2048 bytes, markdown ≤ 4096 bytes. At most
/// `max_per_minute` (20) messages a minute per key: the host's rate limiter spaces them out, so extra
/// messages wait instead of being dropped. 93000 (bad key / robot removed) and 93004 (robot disabled)
/// disable the channel; 45009 is retried later by the outbox.
struct RobotChannel {
    let config: [String: JSONValue]
    let context: InstanceContext

    func send(_ message: OutgoingMessage) async throws -> DeliveryReceipt {
        let key = try config.requiredString("webhook_key")
        let base = (try config.string("base_url")) ?? "https://qyapi.weixin.qq.com"
        let perMinute = max(1, try config.int("max_per_minute") ?? 20)
        let markdown = message.format == "markdown"
        var text = message.text
        if let subject = message.subject, !subject.isEmpty { text = markdown ? "**\(subject)**\n\(text)" : "\(subject)\n\(text)" }
        let (body, cut) = truncated(text, limit: markdown ? 4096 : 2048)
        var part: [String: JSONValue] = ["content": .string(body)]
        if !markdown, !message.recipients.isEmpty { part["mentioned_list"] = .array(message.recipients.map { .string($0) }) }
        let payload: JSONValue = ["msgtype": .string(markdown ? "markdown" : "text"), (markdown ? "markdown" : "text"): .object(part)]
        let url = "\(base)/cgi-bin/webhook/send?key=\(URLEncoding.component(key))"
        let r = try await context.http.send(HTTPRequest(
            method: "POST", url: url, headers: ["content-type": "application/json"], body: payload.jsonBytes,
            options: .init(timeoutMs: try config.int("timeout_ms") ?? 15_000, maxAttempts: 2, rateLimitKey: "robot/\(ContentHash.of(Array(key.utf8)))",
                           ratePerSecond: Double(perMinute) / 60)))
        guard r.status == 200 else { throw PluginError(.upstream, "webhook: HTTP \(r.status)") }
        let v = try JSONValue.parse(r.body)
        let code = v["errcode"]?.intValue ?? -1
        switch code {
        case 0: return DeliveryReceipt(outcome: "sent", detail: cut ? "text truncated to the robot's byte limit" : nil)
        case 93000: throw PluginError(.config, "webhook: errcode 93000: the webhook key is invalid or the robot was removed from its group")
        case 93004: throw PluginError(.config, "webhook: errcode 93004: the robot is disabled")
        case 40058, 40008: throw PluginError(.invalid, "webhook: errcode \(code): the message was refused (\(v["errmsg"]?.stringValue ?? ""))")
        default: throw PluginError(.upstream, "webhook: errcode \(code)\(code == 45009 ? " (over 20 messages a minute)" : "")")
        }
    }
}
