import PluginAPI

/// Delivery channels: WeCom group robot, WeCom app message, Aliyun SMS, SMTP e-mail. One instance per channel.
struct NotifyChannel: Notifier {
    static let manifest = PluginManifest(
        name: "notify", version: "0.1.0", kind: .notifier,
        description: "Delivers notifications through WeCom robots and app messages, Aliyun SMS and SMTP e-mail.",
        config: [
            ConfigKey("channel", .string, required: true, description: "wecom_robot | wecom_app | sms_aliyun | email_smtp"),
            ConfigKey("webhook_url", .string, description: "wecom_robot: webhook base URL"),
            ConfigKey("webhook_key", .string, secret: true, description: "wecom_robot: robot key"),
            ConfigKey("corp_id", .string, description: "wecom_app: corp id"),
            ConfigKey("corp_secret", .string, secret: true, description: "wecom_app: app secret"),
            ConfigKey("agent_id", .string, description: "wecom_app: agent id"),
            ConfigKey("access_key_id", .string, description: "sms_aliyun: AccessKey ID"),
            ConfigKey("access_key_secret", .string, secret: true, description: "sms_aliyun: AccessKey secret"),
            ConfigKey("sign_name", .string, description: "sms_aliyun: signature name"),
            ConfigKey("template_code", .string, description: "sms_aliyun: template code"),
            ConfigKey("smtp_url", .string, description: "email_smtp: smtp://host:587 (STARTTLS) or smtps://host:465"),
            ConfigKey("smtp_username", .string, description: "email_smtp: AUTH user"),
            ConfigKey("smtp_password", .string, secret: true, description: "email_smtp: AUTH password"),
            ConfigKey("from", .string, description: "email_smtp: sender address"),
            ConfigKey("base_url", .string, description: "API base URL override (simulators)"),
        ]
    )

    func send(_ message: OutgoingMessage, context: InstanceContext) async throws -> DeliveryReceipt {
        throw PluginError(.unavailable, "notify: delivery is not built yet")
    }
}
