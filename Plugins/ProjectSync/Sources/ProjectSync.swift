import Foundation
import PluginAPI

/// The `sync` job: incremental by `updated_since` (re-reading a small overlap; items already cached at the
/// same or a newer version are skipped), a 304 on an unchanged first page ends a type at once, tombstones
/// mark deleted projects. A change of a watched field (`notify_on`) queues exactly one notification per
/// channel and project version — never one per sync, and not for the first import unless asked.
struct ProjectSync {
    static let overlap: TimeInterval = 300
    static let pageSize = 100

    let remote: RemoteProjects
    let config: [String: JSONValue]
    let instance: String
    let store: StoreService
    let notifications: NotifyService
    let log: PluginLog

    struct Outcome {
        var total = 0, updated = 0, unchanged = 0, failed = 0, notified = 0, pages = 0
        /// Every project id the upstream returned in this run.
        var seen: Set<String> = []
    }

    /// Value-type format styles (Sendable, no formatter object per call; this runs for every project).
    static let iso = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    static let isoWhole = Date.ISO8601FormatStyle()

    static func date(_ s: String?) -> Date? {
        guard let s else { return nil }
        return (try? iso.parse(s)) ?? (try? isoWhole.parse(s))
    }

    /// `conditional: false` sends no If-None-Match: every page is read (the clean-up's full read, which must
    /// see every project the upstream still has).
    func run(full: Bool, conditional: Bool = true) async throws -> RunResult { try await read(full: full, conditional: conditional).result }

    func read(full: Bool, conditional: Bool) async throws -> (result: RunResult, seen: Set<String>) {
        var outcome = Outcome()
        let cursor = full ? nil : try await store.cursor("updated_since")?.stringValue
        var since = Self.date(cursor).map { $0.addingTimeInterval(-Self.overlap) }
        if full { since = nil }
        var newest = Self.date(cursor)
        let types = config.strings("project_types")
        for type in types.isEmpty ? [nil] : types.map(Optional.some) {
            var page = 1
            let etagState = "etag/\(type ?? "all")/\(since.map { Self.iso.format($0) } ?? "all")"
            while true {
                var q: [(String, String)] = [("page", String(page)), ("page_size", String(Self.pageSize))]
                if let since { q.append(("updated_since", Self.iso.format(since))) }
                if let type { q.append(("type", type)) }
                let known = page == 1 && conditional ? try await store.state(etagState)?.stringValue : nil
                let answer = try await remote.get("/api/v1/projects?" + URLEncoding.query(q), ifNoneMatch: known)
                outcome.pages += 1
                guard case .ok(let body, let etag) = answer else {
                    // 304: nothing new for this type. What is cached is still what the upstream has: say so.
                    try await touchCached(type: type, outcome: &outcome)
                    break
                }
                if page == 1, let etag { try await store.setState(etagState, .string(etag)) }
                let items = body["items"]?.arrayValue ?? []
                newest = try await apply(items, outcome: &outcome, newest: newest)
                guard let next = body["next_page"]?.intValue, next > page, !items.isEmpty else { break }
                page = Int(next)
            }
        }
        if let newest, newest != Self.date(cursor) { try await store.setCursor("updated_since", .string(Self.iso.format(newest))) }
        let message = "total \(outcome.total), updated \(outcome.updated), unchanged \(outcome.unchanged), failed \(outcome.failed), notified \(outcome.notified)"
        return (RunResult(complete: outcome.failed == 0, counts: RunCounts(fetched: outcome.total, pages: outcome.pages), message: message,
                          details: ["updated": .int(Int64(outcome.updated)), "unchanged": .int(Int64(outcome.unchanged)),
                                    "failed": .int(Int64(outcome.failed)), "notified": .int(Int64(outcome.notified))]), outcome.seen)
    }

    /// Applies one page: skips versions already cached, detects changes, writes, notifies.
    func apply(_ items: [JSONValue], outcome: inout Outcome, newest: Date?) async throws -> Date? {
        var newest = newest
        var records: [Record] = []
        for item in items {
            outcome.total += 1
            guard let id = item["id"]?.stringValue, let version = item["version"]?.intValue, let updated = Self.date(item["updated_at"]?.stringValue) else {
                outcome.failed += 1
                log.warning("sync: skipped a malformed project: \(String(decoding: item.jsonBytes.prefix(200), as: UTF8.self))")
                continue
            }
            newest = max(newest ?? updated, updated)
            outcome.seen.insert(id)
            let cached = try await store.get("projects", key: id)?.data
            if let cached, let v = cached["version"]?.intValue, v >= version {
                // Written again as it is cached: its synced_at says the upstream still has it, so the cache
                // lifetime never expires a project the latest sync saw.
                outcome.unchanged += 1
                records.append(Record(key: id, data: cached))
                continue
            }
            outcome.updated += 1
            records.append(Record(key: id, data: item))
            outcome.notified += try await notifyChange(from: cached, to: item)
        }
        if !records.isEmpty { try await store.upsert("projects", records) }
        return newest
    }

    /// Writes the cached projects (of one type) again as they are: their synced_at then says the latest sync
    /// confirmed them, so reads keep answering from cache and the lifetime expires only what the upstream dropped.
    func touchCached(type: String?, outcome: inout Outcome) async throws {
        var cursor: String?
        repeat {
            let page = try await store.list(.init(collection: "projects", filters: type.map { ["type": $0] } ?? [:], limit: 1000, cursor: cursor))
            let live = page.records.filter { $0.data["deleted"] != true }
            if !live.isEmpty { try await store.upsert("projects", live.map { Record(key: $0.key, data: $0.data) }) }
            for r in live { outcome.seen.insert(r.key) }
            cursor = page.nextCursor
        } while cursor != nil
    }

    /// Queues the change notification for a project version; returns how many channels got it.
    func notifyChange(from old: JSONValue?, to new: JSONValue) async throws -> Int {
        let channels = config.strings("notify_channels")
        guard !channels.isEmpty, let id = new["id"]?.stringValue else { return 0 }
        let watched = config.strings("notify_on").isEmpty ? ["status", "stage"] : config.strings("notify_on")
        let labels = ["status": "状态", "stage": "阶段", "progress": "进度", "deleted": "已删除"]
        var changes: [String] = []
        if let old {
            for f in watched + ["deleted"] where old[f] != new[f] && (f != "deleted" || new[f] == true) {
                changes.append("\(labels[f] ?? f): \(Self.show(old[f])) → \(Self.show(new[f]))")
            }
        } else if (try config.bool("notify_first_import")) == true {
            changes.append("首次同步: \(Self.show(new["status"]))")
        }
        guard !changes.isEmpty else { return 0 }
        let text = render(new, old: old, changes: changes, display: try await TimeDisplay.load(store, config: config))
        let version = new["version"]?.intValue ?? 0
        let ids = try await notifications.send(OutgoingMessage(subject: "项目状态变更: \(new["name"]?.stringValue ?? id)", text: text),
                                               channels: channels, dedupKey: "projectsync/\(instance)/\(id)/v\(version)")
        return ids.count
    }

    static func show(_ v: JSONValue?) -> String {
        switch v {
        case .string(let s)?: s
        case .int(let i)?: String(i)
        case .bool(let b)?: b ? "是" : "否"
        case .double(let d)?: String(d)
        default: "-"
        }
    }

    /// `template` with {id} {name} {type} {status} {old_status} {stage} {progress} {owner} {changes} {updated_at}.
    func render(_ p: JSONValue, old: JSONValue?, changes: [String], display: TimeDisplay) -> String {
        let template = (try? config.string("template")) ?? nil
        var text = template ?? "【项目状态变更】{name}（{id}）\n{changes}\n负责人：{owner}　更新时间：{updated_at}"
        let zoned = Self.date(p["updated_at"]?.stringValue).map { display.show($0) } ?? Self.show(p["updated_at"])
        let values = ["id": Self.show(p["id"]), "name": Self.show(p["name"]), "type": Self.show(p["type"]), "status": Self.show(p["status"]),
                      "old_status": Self.show(old?["status"]), "stage": Self.show(p["stage"]), "progress": Self.show(p["progress"]),
                      "owner": Self.show(p["owner"]), "changes": changes.joined(separator: "\n"), "updated_at": zoned]
        for (k, v) in values { text = text.replacingOccurrences(of: "{\(k)}", with: v) }
        return text
    }
}

extension [String: JSONValue] {
    func strings(_ key: String) -> [String] { self[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
}
