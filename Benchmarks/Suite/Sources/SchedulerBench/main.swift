import BenchWorkload
import Foundation
import Host
import Logging
import PluginAPI

// Usage: scheduler-bench PLUGIN_DIR WORK_DIR [schedules] — prints one JSON object of figures.

let args = CommandLine.arguments
let pluginDir = URL(fileURLWithPath: args[1])
let workDir = URL(fileURLWithPath: args[2])
let count = args.count > 3 ? Int(args[3]) ?? 10_000 : 10_000
let clock = ContinuousClock()
func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
}
func percentile(_ xs: [Double], _ p: Double) -> Double {
    guard !xs.isEmpty else { return .nan }
    let s = xs.sorted()
    return s[min(s.count - 1, Int(Double(s.count - 1) * p))]
}

// 1. One next-fire computation, vs Foundation's Calendar.nextDate for the same rule ("0 7 * * *" in Shanghai).
let zone = TimeZone(identifier: "Asia/Shanghai")!
let cron = try CronExpression("0 7 * * *")
var calendar = Calendar(identifier: .gregorian)
calendar.timeZone = zone
let n = 20_000
var t = Date(timeIntervalSince1970: 1_790_000_000)
let cronTime = clock.measure {
    for _ in 0..<n { t = cron.nextFire(after: t, in: zone)!.addingTimeInterval(-3600) }
}
t = Date(timeIntervalSince1970: 1_790_000_000)
let calendarTime = clock.measure {
    for _ in 0..<n { t = calendar.nextDate(after: t, matching: DateComponents(hour: 7, minute: 0), matchingPolicy: .nextTime)!.addingTimeInterval(-3600) }
}
let complex = try CronExpression("*/7 9-23 1,15 * mon-fri")
let complexTime = clock.measure { var d = t; for _ in 0..<n { d = complex.nextFire(after: d, in: zone)! } }

// 2. count schedules firing every minute: how late are the runs, next to a bare timer waking at the same minute?
let dbPath = workDir.appendingPathComponent("sched.db").path
let store = try await StoreFactory.open(.sqlite(path: dbPath), logger: Logger(label: "bench"))
let kernel = Kernel(pluginDirectory: pluginDir, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }, store: store)
try kernel.registry.rescan()
let manager = kernel.instances!
try await manager.create(id: "bench", plugin: "abibench", config: [:])
let now = Date()
for i in 0..<count {
    var s = ScheduleRecord(instance: "bench", job: "ping", cron: "* * * * *", overlap: .allow, note: "bench \(i)", now: now)
    s.advance(after: now)
    try await store.insertSchedule(s)
}
let boundary = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
// Anchor: a task sleeping until the same boundary.
let anchor = Task { () -> Double in
    try? await Task.sleep(for: .seconds(boundary.timeIntervalSinceNow))
    return Date().timeIntervalSince(boundary)
}
// Progress on stderr: a profiler can attach for the burst alone.
FileHandle.standardError.write(Data("scheduler-bench: \(count) schedules due at \(Int(boundary.timeIntervalSince1970)) (in \(Int(boundary.timeIntervalSinceNow)) s)\n".utf8))
let scheduler = kernel.scheduler!
try await scheduler.start()
let anchorLate = await anchor.value
var q = RunQuery()
q.instance = "bench"
q.limit = count + 10
var runs: [RunRecord] = []
let deadline = Date().addingTimeInterval(300)
// Polled cheaply (one row per question) so the watching costs the scheduler next to nothing; the whole
// history is read once, at the end.
func any(_ status: RunRecord.Status?) async throws -> Bool {
    var one = RunQuery()
    one.instance = "bench"
    one.status = status
    one.limit = 1
    return try await !store.runs(one).isEmpty
}
while Date() < deadline {
    try await Task.sleep(for: .milliseconds(200))
    guard try await any(nil), try await !any(.queued), try await !any(.running) else { continue }
    runs = try await store.runs(q).filter { $0.scheduledFor == boundary && $0.status.isFinal }
    if runs.count >= count { break }
}
let started = runs.compactMap { $0.startedAt?.timeIntervalSince(boundary) }
let allDone = runs.compactMap { $0.finishedAt }.max().map { $0.timeIntervalSince(boundary) } ?? .nan
await scheduler.stop()

// 3. Idle: the same count of schedules, none due for a year; CPU used over 10 s, vs a process that only sleeps.
let idleStore = try await StoreFactory.open(.sqlite(path: workDir.appendingPathComponent("idle.db").path), logger: Logger(label: "bench"))
let idleKernel = Kernel(pluginDirectory: pluginDir, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }, store: idleStore)
try idleKernel.registry.rescan()
try await idleKernel.instances!.create(id: "bench", plugin: "abibench", config: [:])
for i in 0..<count {
    var s = ScheduleRecord(instance: "bench", job: "ping", cron: "0 0 1 1 *", note: "idle \(i)", now: now)
    s.advance(after: now)
    try await idleStore.insertSchedule(s)
}
let sleepCPU0 = cpuSeconds()
try await Task.sleep(for: .seconds(10))
let sleepCPU = cpuSeconds() - sleepCPU0
try await idleKernel.scheduler!.start()
try await Task.sleep(for: .seconds(1))
let idleCPU0 = cpuSeconds()
try await Task.sleep(for: .seconds(10))
let idleCPU = cpuSeconds() - idleCPU0
await idleKernel.scheduler!.stop()

let figures: [String: JSONValue] = [
    "schedules": .int(Int64(count)),
    "next_fire_us": .double(seconds(cronTime) / Double(n) * 1e6),
    "calendar_next_date_us": .double(seconds(calendarTime) / Double(n) * 1e6),
    "next_fire_complex_us": .double(seconds(complexTime) / Double(n) * 1e6),
    "runs_at_boundary": .int(Int64(runs.count)),
    "first_started_late_ms": .double((started.min() ?? .nan) * 1000),
    "runs_per_s": .double(Double(runs.count) / allDone),
    "started_late_p50_ms": .double(percentile(started, 0.5) * 1000), "started_late_p99_ms": .double(percentile(started, 0.99) * 1000),
    "all_finished_after_s": .double(allDone),
    "anchor_timer_late_ms": .double(anchorLate * 1000),
    "idle_cpu_percent": .double(idleCPU / 10 * 100), "anchor_sleep_cpu_percent": .double(sleepCPU / 10 * 100),
]
print(String(decoding: try WireJSON.encode(figures), as: UTF8.self))
