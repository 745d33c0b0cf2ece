import Foundation

/// The overlap decision for claimable runs, shared by both backends (they run it inside their claim
/// transaction).
enum ClaimPolicy {
    enum Decision: Equatable {
        case claim
        /// Claim, and ask these running runs to stop (overlap: replace).
        case claimReplacing([String])
        /// Scheduled fire while the job runs (overlap: forbid).
        case skip(String)
        /// Manual / initial / retry run while the job runs (overlap: forbid): stays queued.
        case wait
    }

    /// `running` maps "instance/job" to the ids running now; it is updated as runs are claimed.
    static func decide(_ candidates: [RunRecord], running: inout [String: [String]]) -> [(RunRecord, Decision)] {
        candidates.map { run in
            let key = "\(run.instance)/\(run.job)"
            let busy = running[key] ?? []
            let decision: Decision
            if busy.isEmpty || run.overlap == .allow {
                decision = .claim
            } else if run.overlap == .replace {
                decision = .claimReplacing(busy)
                running[key] = []
            } else if run.trigger == "schedule" {
                decision = .skip("skipped: run \(busy[0]) of \(run.job) was still running (overlap: forbid)")
            } else {
                decision = .wait
            }
            if decision == .claim || { if case .claimReplacing = decision { return true }; return false }() {
                running[key, default: []].append(run.id)
            }
            return (run, decision)
        }
    }
}
