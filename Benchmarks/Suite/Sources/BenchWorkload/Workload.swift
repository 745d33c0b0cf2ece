import Foundation
import PluginAPI

/// The work both sides of the benchmark do: build pages of realistic CDRs (about 20 fields) and hand each
/// page to a store upsert.
public enum Workload {
    public static func cdr(_ i: Int) -> Record {
        let start = 1_763_856_000_000 + Int64(i) * 1_000
        let data: JSONValue = [
            "flowNo": .string("F\(100_000_000 + i)"), "account": .string("ACC\(i % 500)"), "accountName": "客户",
            "callerE164": .string("8613\(String(900_000_000 + i % 99_999_999))"), "calleeE164": .string("8610\(i % 10_000_000)"),
            "callerAccessE164": "95013", "calleeAccessE164": "", "callerIp": "10.1.2.3", "calleeIp": "10.9.8.7",
            "callerGatewayId": "gw-in-1", "calleeGatewayId": "gw-out-2", "start": .int(start), "stop": .int(start + 63_000),
            "holdTime": .int(Int64(i % 600)), "feeTime": .int(Int64(60 * (i % 10))), "fee": .double(Double(i % 1000) / 100),
            "endReason": .int(Int64(i % 16)), "endDirection": .int(Int64(i % 2)), "callLevel": 1, "billingMode": 0,
        ]
        return Record(key: "F\(100_000_000 + i)", data: data)
    }

    /// A page of CDRs as the store receives them: key and JSON bytes.
    public static func encodedPage(start: Int, count: Int) -> [(key: String, json: [UInt8])] {
        (start..<start + count).map { i in let r = cdr(i); return (r.key, r.data.jsonBytes) }
    }

    public static func peakRSSMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return Double(line.split(separator: " ")[1]).map { $0 / 1024 } ?? 0
    }

    /// Resets the peak-RSS counter, so each measured phase reports its own peak.
    public static func resetPeakRSS() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    /// Pushes `total` records in pages through `upsert`; returns how many the store reported.
    public static func push(total: Int, pageSize: Int, upsert: @Sendable (String, [Record]) async throws -> RunCounts) async throws -> RunCounts {
        var counts = RunCounts()
        var next = 0
        while next < total {
            let n = min(pageSize, total - next)
            let page = (next..<next + n).map(cdr)
            counts += try await upsert("cdrs", page)
            next += n
        }
        return counts
    }
}
