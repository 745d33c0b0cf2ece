import Foundation
import PluginAPI

/// WeCom app message: `POST /cgi-bin/message/send?access_token=` with the corp's token (cached in this
/// channel's plugin state, renewed on 40014/42001). Partial success (`invaliduser`…) is recorded as a
/// partial delivery; 81013 (every recipient invalid) can never succeed and is not retried.
struct AppChannel {
    let config: [String: JSONValue]
    let context: InstanceContext

    var base: String { ((try? config.string("base_url")) ?? nil) ?? "https://qyapi.weixin.qq.com" }

    func token(fresh: Bool) async throws -> String {
        if !fresh, let s = try await context.store.state("access_token"), let t = s["token"]?.stringValue,
           let exp = s["expires_at"]?.doubleValue, exp > Date().timeIntervalSince1970 {
            return t
        }
        let r = try await context.http.get("\(base)/cgi-bin/gettoken?corpid=\(URLEncoding.component(try config.requiredString("corp_id")))&corpsecret=\(URLEncoding.component(try config.requiredString("corp_secret")))")
        let v = try JSONValue.parse(r.body)
        let code = v["errcode"]?.intValue ?? -1
        guard code == 0, let t = v["access_token"]?.stringValue else {
            throw PluginError([40001, 40013].contains(code) ? .config : .upstream, "gettoken: errcode \(code)")
        }
        let life = Double(v["expires_in"]?.intValue ?? 7200)
        try await context.store.setState("access_token", ["token": .string(t), "expires_at": .double(Date().timeIntervalSince1970 + life - min(300, life / 2))])
        return t
    }

    func send(_ message: OutgoingMessage) async throws -> DeliveryReceipt {
        let to = message.recipients.isEmpty ? config.strings("recipients") : message.recipients
        guard !to.isEmpty else { throw PluginError(.invalid, "wecom_app: no recipients (set recipients in the channel or the message)") }
        let markdown = message.format == "markdown"
        var text = message.text
        if let subject = message.subject, !subject.isEmpty { text = "\(subject)\n\(text)" }
        let payload: JSONValue = [
            "touser": .string(to.joined(separator: "|")), "msgtype": .string(markdown ? "markdown" : "text"),
            "agentid": .int(Int64(try config.requiredString("agent_id")) ?? 0), (markdown ? "markdown" : "text"): ["content": .string(truncated(text, limit: 2048).text)],
        ]
        var fresh = false
        while true {
            let t = try await token(fresh: fresh)
            let r = try await context.http.send(HTTPRequest(
                method: "POST", url: "\(base)/cgi-bin/message/send?access_token=\(URLEncoding.component(t))", headers: ["content-type": "application/json"], body: payload.jsonBytes))
            guard r.status == 200 else { throw PluginError(.upstream, "message/send: HTTP \(r.status)") }
            let v = try JSONValue.parse(r.body)
            let code = v["errcode"]?.intValue ?? -1
            switch code {
            case 0:
                let invalid = ["invaliduser", "invalidparty", "invalidtag"].compactMap { k in
                    v[k]?.stringValue.flatMap { $0.isEmpty ? nil : "\(k): \($0)" }
                }
                return invalid.isEmpty ? DeliveryReceipt(outcome: "sent") : DeliveryReceipt(outcome: "partial", detail: invalid.joined(separator: "; "))
            case 40014 where !fresh, 42001 where !fresh: fresh = true
            case 81013: throw PluginError(.invalid, "message/send: errcode 81013: every recipient is invalid (\(to.joined(separator: "|")))")
            case 40001, 40013, 48002, 60020: throw PluginError(.config, "message/send: errcode \(code)")
            default: throw PluginError(.upstream, "message/send: errcode \(code)")
            }
        }
    }
}
