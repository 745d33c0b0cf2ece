import Foundation
import PluginAPI

/// Delivery channels: WeCom group robot, WeCom app message, Aliyun SMS, SMTP e-mail. One instance per
/// channel; the host's outbox persists every message first and calls `send` for each attempt.
///
/// Errors tell the outbox what to do: `.config` = the channel refuses for good (it gets disabled),
/// `.invalid` = this message can never be delivered (dead, not retried), anything else = retry later.
public struct NotifyChannel: Notifier {
    public init() {}

    public static let manifest = PluginManifest(
        name: "notify", version: "0.2.0", kind: .notifier,
        description: "Delivers notifications through WeCom robots and app messages, Aliyun SMS and SMTP e-mail.",
        config: [
            ConfigKey("channel", .string, required: true, description: "wecom_robot | wecom_app | sms_aliyun | email_smtp"),
            ConfigKey("recipients", .stringList, description: "Default recipients: user ids (wecom_app), phone numbers (sms_aliyun), addresses (email_smtp)"),
            ConfigKey("base_url", .string, description: "wecom_*: API host (default https://qyapi.weixin.qq.com); sms_aliyun: endpoint (default https://dysmsapi.aliyuncs.com/)"),
            ConfigKey("webhook_key", .string, secret: true, description: "wecom_robot: the robot's key (the webhook URL's key=)"),
            ConfigKey("max_per_minute", .integer, default: 20, description: "wecom_robot: messages per minute per key (the platform allows 20); extra ones wait"),
            ConfigKey("corp_id", .string, description: "wecom_app: corp id"),
            ConfigKey("corp_secret", .string, secret: true, description: "wecom_app: app secret"),
            ConfigKey("agent_id", .string, description: "wecom_app: agent id"),
            ConfigKey("access_key_id", .string, description: "sms_aliyun: AccessKey ID"),
            ConfigKey("access_key_secret", .string, secret: true, description: "sms_aliyun: AccessKey secret"),
            ConfigKey("sign_name", .string, description: "sms_aliyun: signature name"),
            ConfigKey("template_code", .string, description: "sms_aliyun: template code"),
            ConfigKey("template_param", .string, default: "content", description: "sms_aliyun: the template variable that receives the text"),
            ConfigKey("smtp_url", .string, description: "email_smtp: smtp://host:587 (STARTTLS required) or smtps://host:465 (implicit TLS)"),
            ConfigKey("smtp_username", .string, description: "email_smtp: AUTH user"),
            ConfigKey("smtp_password", .string, secret: true, description: "email_smtp: AUTH password (QQ mail: the 授权码)"),
            ConfigKey("from", .string, description: "email_smtp: sender address"),
            ConfigKey("ca_file", .string, description: "email_smtp: PEM file of extra trusted CAs (private servers)"),
            ConfigKey("timeout_ms", .integer, default: 15_000, description: "Per-attempt timeout"),
        ]
    )

    static let channels = ["wecom_robot", "wecom_app", "sms_aliyun", "email_smtp"]

    public func validate(config c: [String: JSONValue]) throws {
        let channel = try c.requiredString("channel")
        func need(_ keys: String...) throws { for k in keys { _ = try c.requiredString(k) } }
        switch channel {
        case "wecom_robot": try need("webhook_key")
        case "wecom_app": try need("corp_id", "corp_secret", "agent_id")
        case "sms_aliyun": try need("access_key_id", "access_key_secret", "sign_name", "template_code")
        case "email_smtp":
            try need("smtp_url", "from")
            _ = try SMTPChannel.Settings(config: c)
        default: throw PluginError(.config, "channel must be one of \(Self.channels.joined(separator: ", ")), not \(channel.debugDescription)")
        }
    }

    public func send(_ message: OutgoingMessage, context: InstanceContext) async throws -> DeliveryReceipt {
        let c = context.config
        switch try c.requiredString("channel") {
        case "wecom_robot": return try await RobotChannel(config: c, context: context).send(message)
        case "wecom_app": return try await AppChannel(config: c, context: context).send(message)
        case "sms_aliyun": return try await AliyunSMSChannel(config: c, context: context).send(message)
        case "email_smtp": return try await SMTPChannel(settings: try SMTPChannel.Settings(config: c)).send(message)
        case let other: throw PluginError(.config, "unknown channel type \(other.debugDescription)")
        }
    }
}

extension [String: JSONValue] {
    func strings(_ key: String) -> [String] { self[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
}

/// Cuts text to at most `limit` UTF-8 bytes on a character boundary, marking the cut.
func truncated(_ text: String, limit: Int) -> (text: String, cut: Bool) {
    guard text.utf8.count > limit else { return (text, false) }
    let marker = "…(truncated)"
    var out = ""
    var used = 0
    for ch in text {
        let n = String(ch).utf8.count
        if used + n > limit - marker.utf8.count { break }
        out.append(ch)
        used += n
    }
    return (out + marker, true)
}
