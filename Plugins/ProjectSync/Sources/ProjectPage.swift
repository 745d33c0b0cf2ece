import Foundation
import PluginAPI

/// The project detail page a tokenised link opens (`GET projects/{project}/page?token=&lang=zh-CN|en`): public
/// (the access token is the credential, no admin token), rendered here as plain HTML with no script, from the
/// same read as `GET projects/{project}` (cache first, live on `force_sync=true`, stale cache on failure).
enum ProjectPage {
    /// Inline style only; nothing may run.
    static let policy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    struct Words {
        let title, status, stage, progress, owner, type, updated, source, cache, live, stale, expired: String
        let zh: Bool
        init(zh: Bool) {
            self.zh = zh
            title = zh ? "项目详情" : "Project"
            status = zh ? "状态" : "Status"
            stage = zh ? "阶段" : "Stage"
            progress = zh ? "进度" : "Progress"
            owner = zh ? "负责人" : "Owner"
            type = zh ? "类型" : "Type"
            updated = zh ? "更新时间" : "Updated"
            source = zh ? "数据来源" : "Source"
            cache = zh ? "缓存数据" : "cache"
            live = zh ? "实时数据" : "live"
            stale = zh ? "项目服务暂不可用，显示的是缓存数据" : "the project service is unavailable: this is the cached copy"
            expired = zh ? "链接无效或已过期" : "This link is not valid or has expired"
        }
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// The page for a project answer (the JSON of `ProjectRoutes.respond`) or for a refusal.
    static func render(_ answer: RouteResponse, zh: Bool) -> RouteResponse {
        let w = Words(zh: zh)
        var body: String
        let parsed = try? JSONValue.parse(answer.bodyBytes)
        if answer.status == 200, let o = parsed, let p = o["project"] {
            let text: (String) -> String = { escape(p[$0].map { $0.stringValue ?? String(decoding: $0.jsonBytes, as: UTF8.self) } ?? "—") }
            let shown = o["display"]?["updated_at"]?.stringValue ?? p["updated_at"]?.stringValue ?? "—"
            let source = o["source"]?.stringValue == "live" ? w.live : w.cache
            body = "<h1>\(text("name"))</h1><p class=\"id\">\(text("id"))</p>"
            if o["stale"] == true { body += "<p class=\"warn\">\(escape(w.stale))</p>" }
            body += "<dl>"
            for (label, field) in [(w.status, "status"), (w.stage, "stage"), (w.type, "type"), (w.owner, "owner")] {
                body += "<dt>\(label)</dt><dd>\(text(field))</dd>"
            }
            let progress = p["progress"]?.intValue ?? 0
            body += "<dt>\(w.progress)</dt><dd><progress max=\"100\" value=\"\(progress)\">\(progress)%</progress> \(progress)%</dd>"
            body += "<dt>\(w.updated)</dt><dd>\(escape(shown))</dd><dt>\(w.source)</dt><dd>\(source) · \(escape(o["display"]?["cached_at"]?.stringValue ?? ""))</dd></dl>"
        } else {
            let message = parsed?["error"]?["message"]?.stringValue ?? "HTTP \(answer.status)"
            body = "<h1>\(escape(w.expired))</h1><p class=\"warn\">\(escape(message))</p>"
        }
        let html = """
            <!doctype html><html lang="\(zh ? "zh-CN" : "en")"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(w.title)</title><style>body{font:15px/1.5 system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:640px;margin:24px auto;padding:0 16px;color:#1f2937}
            .id{color:#4b5563}.warn{color:#b45309}dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px}dt{color:#4b5563}dd{margin:0}</style></head>
            <body>\(body)</body></html>
            """
        return RouteResponse(status: answer.status, headers: ["content-type": "text/html; charset=utf-8", "content-security-policy": policy,
                                                              "cache-control": "no-store"], body: html)
    }
}
