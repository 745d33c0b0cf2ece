import Foundation
import PluginAPI

/// `contacts_incremental` / `contacts_full`: follow users → `batch/get_by_user` (≤ 100 user ids per call,
/// cursor paging, limit 100) → `contacts` (keyed by external_userid, written once per run however many
/// followers list it), `sessions` (one per contact and follower) and `staff`. The store writes only what
/// changed. A complete full run lets the host mark every contact and session it did not see as deleted; an
/// incomplete or failed one deletes nothing. In a dry run nothing is written and the run reports what
/// would be inserted, updated, unchanged and (full) deleted.
struct ContactSync {
    let client: WeComClient
    let context: JobContext
    let full: Bool

    func run() async throws -> RunResult {
        if full, try context.params.bool("force") != true {
            let running = try await context.scheduler.runs(job: "contacts_incremental", limit: 5).filter { $0.status == "running" }
            if let r = running.first {
                return RunResult(complete: false, message: "not run: incremental run \(r.id) is in progress (set force to run anyway); nothing deleted")
            }
        }
        let users = try await client.call("/cgi-bin/externalcontact/get_follow_user_list")["follow_user"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var counts = RunCounts()
        try await syncStaff(users, counts: &counts)

        var seenContacts = Set<String>(), seenSessions = Set<String>()
        let batches = stride(from: 0, to: users.count, by: client.settings.batchSize).map { Array(users[$0..<min($0 + client.settings.batchSize, users.count)]) }
        for (i, batch) in batches.enumerated() {
            await context.scheduler.progress(done: i, total: batches.count, label: "\(i * client.settings.batchSize)/\(users.count) follow users")
            var cursor = ""
            repeat {
                let page: JSONValue
                do {
                    page = try await client.call("/cgi-bin/externalcontact/batch/get_by_user",
                                                 body: ["userid_list": .array(batch.map { .string($0) }), "cursor": .string(cursor), "limit": 100])
                } catch is WeComClient.NotExternalContact {
                    break  // none of these members has customers
                }
                let rows = page["external_contact_list"]?.arrayValue ?? []
                var contacts: [Record] = [], sessions: [Record] = []
                for row in rows {
                    guard var contact = row["external_contact"]?.objectValue, let id = contact["external_userid"]?.stringValue,
                          var follow = row["follow_info"]?.objectValue, let user = follow["userid"]?.stringValue else { continue }
                    if seenContacts.insert(id).inserted {
                        // The seed's model: 正常 (normal) while a sync sees it; a complete full sync that no longer
                        // does tombstones it (the status route counts those as deleted). batch/get_by_user lists
                        // customers only, so every contact it returns is a full (完整) contact.
                        contact["status"] = "normal"
                        contact["contact_type"] = "full"
                        contacts.append(Record(key: id, data: .object(contact)))
                    }
                    let key = "\(id):\(user)"
                    if seenSessions.insert(key).inserted {
                        follow["external_userid"] = .string(id)
                        follow["status"] = "active"
                        follow["source"] = "sync"
                        follow["is_active"] = true
                        sessions.append(Record(key: key, data: .object(follow)))
                    }
                }
                counts.fetched += rows.count
                counts.pages += 1
                if !contacts.isEmpty { try await context.store.upsert("contacts", contacts) }
                if !sessions.isEmpty { try await context.store.upsert("sessions", sessions) }
                cursor = page["next_cursor"]?.stringValue ?? ""
            } while !cursor.isEmpty
            context.log.info("batch \(i + 1)/\(batches.count): \(seenContacts.count) contacts, \(seenSessions.count) sessions so far")
        }

        var message = "\(users.count) follow users, \(seenContacts.count) contacts, \(seenSessions.count) sessions"
        if full && context.dryRun {
            let gone = try await unseen("contacts", seenContacts) + unseen("sessions", seenSessions)
            counts.deleted = gone
            message += "; dry run: would mark \(gone) contacts/sessions deleted"
        }
        if full && !context.dryRun {
            try await context.store.setState("last_full", [
                "contacts_seen": .int(Int64(seenContacts.count)), "sessions_seen": .int(Int64(seenSessions.count)),
                "at": .double(Date().timeIntervalSince1970),
            ])
        }
        return RunResult(counts: counts, message: message,
                         details: ["contacts_seen": .int(Int64(seenContacts.count)), "sessions_seen": .int(Int64(seenSessions.count))],
                         fullSync: full ? ["contacts", "sessions"] : [])
    }

    /// Follow users, with their names (通讯录 `user/get`) and how many customers each has (`externalcontact/list`;
    /// 84061 = none). A member who left the follow-user list stays, marked inactive since the run that noticed.
    func syncStaff(_ users: [String], counts: inout RunCounts) async throws {
        var staff: [Record] = []
        var namesReadable = true
        for user in users {
            let customers: Int
            do {
                customers = try await client.call("/cgi-bin/externalcontact/list", query: "userid=\(URLEncoding.component(user))")["external_userid"]?.arrayValue?.count ?? 0
            } catch is WeComClient.NotExternalContact {
                customers = 0
            }
            var row: [String: JSONValue] = ["userid": .string(user), "customers": .int(Int64(customers)), "status": "active"]
            if namesReadable {
                do {
                    row["name"] = try await client.call("/cgi-bin/user/get", query: "userid=\(URLEncoding.component(user))")["name"] ?? .null
                } catch let e as PluginError where e.kind == .config {
                    // The contact secret may not read the directory: names stay empty, the sync goes on.
                    namesReadable = false
                    context.log.warning("staff names not read: \(e.message)")
                } catch let e as PluginError where e.kind == .upstream {
                    context.log.warning("staff \(user): name not read: \(e.message)")
                }
            }
            staff.append(Record(key: user, data: .object(row)))
        }
        let current = Set(users)
        var cursor: String?
        repeat {
            let page = try await context.store.list(.init(collection: "staff", limit: 1_000, cursor: cursor))
            for r in page.records where !current.contains(r.key) && r.data["status"]?.stringValue != "inactive" {
                guard var row = r.data.objectValue else { continue }
                row["status"] = "inactive"
                row["inactive_since"] = .string(Health.timeFormatter(context.config).string(from: Date()))
                staff.append(Record(key: r.key, data: .object(row)))
            }
            cursor = page.nextCursor
        } while cursor != nil
        if !staff.isEmpty { try await context.store.upsert("staff", staff) }
    }

    /// How many live records of a collection this run did not see (what a full run would mark deleted).
    func unseen(_ collection: String, _ seen: Set<String>) async throws -> Int {
        var n = 0
        var cursor: String?
        repeat {
            let page = try await context.store.list(.init(collection: collection, limit: 5_000, cursor: cursor))
            n += page.records.filter { !seen.contains($0.key) }.count
            cursor = page.nextCursor
        } while cursor != nil
        return n
    }
}
