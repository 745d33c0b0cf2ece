import Foundation

/// Turns a due schedule into runs: the fires since its last planned one, under its misfire policy. Missed
/// fires are never dropped silently: whatever is not run is recorded as one skipped run saying how many.
enum MisfirePolicy {
    /// A fire this close to `now` is on time, not missed.
    static let grace: TimeInterval = 60
    /// Counting missed fires stops here (a months-long outage of a per-minute schedule).
    static let countLimit = 100_000

    static func plan(_ schedule: ScheduleRecord, now exactNow: Date) -> FirePlan {
        // At the store's precision (milliseconds, rounded): the store found the schedule due by comparing millisecond
        // values, so "due" here must mean the same — a fire 0.4 ms after the exact now would otherwise be found due,
        // not planned, and passed over with the schedule advanced beyond it.
        let now = Date(millis: exactNow.millis)
        var s = schedule
        guard let first = s.nextFireAt, let zone = CronCache.zone(s.timezone), let cron = CronCache.cron(s.cron) else {
            s.advance(after: now)
            return FirePlan(runs: [], schedule: s)
        }
        var fires: [Date] = []
        var f: Date? = first
        while let fire = f, fire <= now, fires.count < countLimit {
            fires.append(fire)
            f = cron.nextFire(after: fire, in: zone)
        }
        let graceNow = grace + Double(s.jitterSeconds)
        let onTime = fires.filter { now.timeIntervalSince($0) <= graceNow }
        let missed = fires.filter { now.timeIntervalSince($0) > graceNow }
        var runs: [RunRecord] = []
        var skipped: [Date] = []
        switch s.misfire {
        case .skip:
            runs = onTime.map { run(s, fire: $0, now: now) }
            skipped = missed
        case .once:
            if onTime.isEmpty, let last = missed.last {
                var r = run(s, fire: last, now: now)
                r.message = "catching up: \(missed.count) fire(s) missed since \(iso(missed[0])) (misfire: once)"
                runs = [r]
                skipped = Array(missed.dropLast())
            } else {
                runs = onTime.map { run(s, fire: $0, now: now) }
                skipped = missed
            }
        case .all:
            let all = missed + onTime
            let kept = all.suffix(s.misfireCap)
            runs = kept.map { run(s, fire: $0, now: now) }
            skipped = Array(all.dropLast(kept.count))
        }
        if let firstSkipped = skipped.first {
            var r = run(s, fire: firstSkipped, now: now)
            r.status = .skipped
            r.finishedAt = now
            let more = fires.count >= countLimit ? " (at least)" : ""
            r.message = "skipped \(skipped.count)\(more) fire(s) missed from \(iso(firstSkipped)) to \(iso(skipped.last!)) (misfire: \(s.misfire.rawValue))"
            runs.insert(r, at: 0)
        }
        s.advance(after: max(now, fires.last ?? now))
        return FirePlan(runs: runs, schedule: s)
    }

    static func run(_ s: ScheduleRecord, fire: Date, now: Date) -> RunRecord {
        var r = RunRecord(instance: s.instance, job: s.job, trigger: "schedule", params: s.params, scheduleID: s.id, scheduledFor: fire, createdAt: now)
        r.runAt = now
        r.overlap = s.overlap
        r.timeoutSeconds = s.timeoutSeconds
        r.maxAttempts = s.maxAttempts
        r.retryBackoffSeconds = s.retryBackoffSeconds
        return r
    }

    static func iso(_ d: Date) -> String { ISO8601DateFormatter().string(from: d) }
}
