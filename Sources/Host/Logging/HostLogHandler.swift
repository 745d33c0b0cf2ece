import Foundation
import Logging

/// The host's log lines on stderr, in swift-log's stream format
/// (`2026-12-03T09:15:00+0800 info synchost.http : hb.request.id=7 [Host] message`). Unlike `StreamLogHandler`,
/// metadata is formatted only when a line is written: every HTTP request sets its request id on a logger, and
/// most requests log nothing.
public struct HostLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    public init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let explicit { all.merge(explicit) { _, new in new } }
        let pretty = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let text = "\(Self.timestamp()) \(level) \(label) :\(pretty) [\(source)] \(message)\n"
        // One write per line: lines of concurrent tasks never interleave.
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { b in
            var offset = 0
            while offset < b.count {
                let n = write(STDERR_FILENO, b.baseAddress! + offset, b.count - offset)
                if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
                offset += n
            }
        }
    }

    private static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [Int8](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Installs the host's log handler once per process. Logs go to stderr, so command output on stdout stays
/// machine-readable.
public enum LogSetup {
    nonisolated(unsafe) private static var done = false
    private static let lock = NSLock()

    public static func bootstrap(level: Logger.Level) {
        lock.lock()
        defer { lock.unlock() }
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in HostLogHandler(label: label, level: level) }
    }
}
