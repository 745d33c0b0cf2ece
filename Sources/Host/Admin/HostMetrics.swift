import CoreMetrics
import Foundation
import Metrics
import Prometheus
import Synchronization

/// The host's metrics through swift-metrics, exposed in the Prometheus text format at `GET /metrics`:
/// runs by status, records written, run durations, upstream errors, HTTP request latency (Hummingbird's
/// MetricsMiddleware). Bootstrapped once per process.
public enum HostMetrics {
    public static let registry = PrometheusCollectorRegistry()
    private static let done = Mutex(false)

    public static func bootstrap() {
        let first = done.withLock { d -> Bool in defer { d = true }; return !d }
        guard first else { return }
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    static func runFinished(plugin: String, job: String, status: String, counts: RunCountsSnapshot, seconds: Double?) {
        Counter(label: "synchost_runs_total", dimensions: [("plugin", plugin), ("job", job), ("status", status)]).increment()
        for (kind, n) in [("inserted", counts.inserted), ("updated", counts.updated), ("deleted", counts.deleted)] where n > 0 {
            Counter(label: "synchost_records_written_total", dimensions: [("plugin", plugin), ("kind", kind)]).increment(by: n)
        }
        if let seconds { Timer(label: "synchost_run_duration_seconds", dimensions: [("plugin", plugin), ("job", job)]).recordSeconds(seconds) }
    }

    static func upstreamError(plugin: String) {
        Counter(label: "synchost_upstream_errors_total", dimensions: [("plugin", plugin)]).increment()
    }

    /// Notifications waiting for delivery (pending, sending, failed).
    static func instanceHealth(instance: String, plugin: String, score: Int) {
        Gauge(label: "synchost_instance_health_score", dimensions: [("instance", instance), ("plugin", plugin)]).record(score)
    }

    static func outboxDepth(_ n: Int) {
        Gauge(label: "synchost_outbox_depth").record(n)
    }

    static func notificationFinished(state: String) {
        Counter(label: "synchost_notifications_total", dimensions: [("state", state)]).increment()
    }

    static func text() -> String { registry.emitToString() }
}

struct RunCountsSnapshot {
    var inserted: Int, updated: Int, deleted: Int
}
