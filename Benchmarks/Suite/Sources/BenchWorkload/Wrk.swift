import Foundation

/// One `wrk` run's throughput and latency percentiles (milliseconds).
public struct WrkResult: Sendable {
    public var rps: Double
    public var p50: Double
    public var p99: Double
}

/// Runs `wrk --latency` against `url` and reads its summary. Progress goes to stderr under `tool`'s name (a
/// profiler can attach for one phase: `perf record -p`). Any non-2xx answer, or no answer at all, is fatal:
/// a figure of errors is no figure.
public func wrk(_ url: String, bearer token: String?, seconds: Int, connections: Int = 64, threads: Int = 2, tool: String) throws -> WrkResult {
    FileHandle.standardError.write(Data("\(tool): wrk -t\(threads) -c\(connections) \(url)\n".utf8))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["wrk", "-t\(threads)", "-c\(connections)", "-d\(seconds)s", "--latency"] + (token.map { ["-H", "Authorization: Bearer \($0)"] } ?? []) + [url]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    func value(_ s: Substring) -> Double {
        let t = s.trimmingCharacters(in: .whitespaces)
        for (unit, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where t.hasSuffix(unit) {
            return (Double(t.dropLast(unit.count)) ?? 0) * factor
        }
        return Double(t) ?? 0
    }
    var r = WrkResult(rps: 0, p50: 0, p99: 0)
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        if line.hasPrefix("Requests/sec:"), let v = parts.last { r.rps = Double(v) ?? 0 }
        if parts.count == 2 && parts[0] == "50%" { r.p50 = value(parts[1]) }
        if parts.count == 2 && parts[0] == "99%" { r.p99 = value(parts[1]) }
        if line.contains("Non-2xx") { fatalError("wrk saw errors on \(url): \(line)") }
    }
    guard r.rps > 0 else { fatalError("wrk measured nothing on \(url):\n\(text)") }
    return r
}

/// Runs every target once per round, in turn, `rounds` times, and keeps each target's median throughput and
/// median percentiles: on this noisy machine a slow spell then hits every target alike, not just the one that
/// happened to run during it, and the ratios between targets stay comparable.
public func wrkRounds(_ targets: [(url: String, bearer: String?)], rounds: Int, seconds: Int, connections: Int = 64, threads: Int = 2,
                      tool: String) throws -> [WrkResult] {
    var runs = Array(repeating: [WrkResult](), count: targets.count)
    for _ in 0..<rounds {
        for (i, t) in targets.enumerated() {
            runs[i].append(try wrk(t.url, bearer: t.bearer, seconds: seconds, connections: connections, threads: threads, tool: tool))
        }
    }
    func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
    return runs.map { r in WrkResult(rps: median(r.map(\.rps)), p50: median(r.map(\.p50)), p99: median(r.map(\.p99))) }
}
