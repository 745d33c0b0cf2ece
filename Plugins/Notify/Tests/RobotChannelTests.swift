import Foundation
import PluginAPI
import PluginTesting
import Testing

@testable import NotifyPlugin

/// The WeCom group robot channel against scripted webhook answers (fake host).
@Suite("Notify robot channel (fake host)")
struct RobotChannelTests {
    static let config: [String: JSONValue] = ["channel": "wecom_robot", "webhook_key": "k-1", "base_url": "http://wecom.test"]

    @Test func aMessageIsPostedToTheWebhookAndItsErrcodeDecidesTheOutcome() async throws {
        let host = FakeHost(notifier: NotifyChannel.self, config: Self.config)
        host.onFetch { fetch in
            HTTPResponse(status: 200, headers: [:], body: Array((fetch.text.contains("坏") ? #"{"errcode":93000,"errmsg":"invalid webhook url"}"# : #"{"errcode":0,"errmsg":"ok"}"#).utf8))
        }
        let receipt = try await host.send(OutgoingMessage(subject: "同步失败", text: "VOS 节点 n1 同步失败", recipients: ["zhangsan"]))
        #expect(receipt.outcome == "sent")
        let sent = try #require(host.fetches.first)
        #expect(sent.head.url == "http://wecom.test/cgi-bin/webhook/send?key=k-1")
        let body = try JSONValue.parse(sent.body)
        #expect(body["msgtype"] == "text" && body["text"]?["content"] == "同步失败\nVOS 节点 n1 同步失败" && body["text"]?["mentioned_list"] == ["zhangsan"])

        do {
            _ = try await host.send(OutgoingMessage(text: "坏"))
            Issue.record("an invalid webhook was accepted")
        } catch let e as PluginError {
            #expect(e.kind == .config && e.message.contains("errcode 93000"), "\(e)")
        }
    }

    @Test func aChannelMissingWhatItNeedsIsRefused() async throws {
        let host = FakeHost(notifier: NotifyChannel.self, config: Self.config)
        for (config, words) in [(["channel": "pigeon"] as [String: JSONValue], "channel must be one of"), (["channel": "wecom_app", "corp_id": "c"], "corp_secret")] {
            do {
                try await host.validate(config)
                Issue.record("\(config) was accepted")
            } catch let e as PluginError {
                #expect(e.message.contains(words), "\(e.message)")
            }
        }
    }
}
