import Foundation
import Logging
import Synchronization
import Testing

@testable import Host

/// Where the build put the plugins and the `synchost` binary, and where the package's sources are.
enum Build {
    /// The directory of the test binary's build products (walk up from the running executable until the
    /// in-tree plugins are found).
    static let products: URL = {
        var dir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("libVOS.so").path) { return dir }
            dir.deleteLastPathComponent()
        }
        fatalError("cannot find the built plugins (libVOS.so) above \(CommandLine.arguments[0])")
    }()

    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let inTreePlugins = ["libGuanke.so", "libNotify.so", "libProjectSync.so", "libVOS.so", "libWeCom.so"]

    static var synchost: URL { products.appendingPathComponent("synchost") }
}

/// A fresh temporary directory, removed by the caller's `defer`.
func temporaryDirectory(_ label: String = "synchost-test") throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// A plugin directory holding copies of the in-tree plugins.
func pluginDirectoryWithInTreePlugins() throws -> URL {
    let dir = try temporaryDirectory("plugins")
    for name in Build.inTreePlugins {
        try FileManager.default.copyItem(at: Build.products.appendingPathComponent(name), to: dir.appendingPathComponent(name))
    }
    return dir
}

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program to completion, capturing its output, on a thread outside Swift's cooperative pool (the
/// pool has one thread per core; blocking it would starve every other test).
@discardableResult
func runProcess(_ executable: String, _ arguments: [String], cwd: URL? = nil, environment: [String: String]? = nil) async throws -> ProcessResult {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try runProcessBlocking(executable, arguments, cwd: cwd, environment: environment) })
        }
    }
}

func runProcessBlocking(_ executable: String, _ arguments: [String], cwd: URL? = nil, environment: [String: String]? = nil) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if let cwd { p.currentDirectoryURL = cwd }
    if let environment { p.environment = environment }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read both pipes concurrently so a chatty child cannot block on a full pipe.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return ProcessResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

/// Compiles the C fixture plugin with the given -D switches into `directory/fileName`.
/// A temporary directory with a `plugins` folder holding the C test plugin (`tiny_c`).
func directoryWithTinyPlugin(_ label: String) async throws -> (dir: URL, plugins: URL) {
    let dir = try temporaryDirectory(label)
    let plugins = dir.appendingPathComponent("plugins")
    try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
    _ = try await compileCPlugin(into: plugins, fileName: "tiny.so")
    return (dir, plugins)
}

func compileCPlugin(into directory: URL, fileName: String, defines: [String] = []) async throws -> URL {
    let output = directory.appendingPathComponent(fileName)
    let source = Build.packageRoot.appendingPathComponent("Tests/Fixtures/CPlugin/tiny_plugin.c").path
    let include = Build.packageRoot.appendingPathComponent("Sources/PluginABI/include").path
    let r = try await runProcess("/usr/bin/env", ["cc", "-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Werror", "-pthread", "-I", include]
        + defines.map { "-D\($0)" } + ["-o", output.path, source])
    guard r.status == 0 else { throw HostError.invalid("cc failed: \(r.stderr)") }
    return output
}

/// Log lines of a test, captured.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}

struct CapturingLogHandler: LogHandler {
    let sink: CapturedLog
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        let all = self.metadata.merging(metadata ?? [:]) { _, b in b }
        sink.append("\(level) \(message) \(all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
    }
}

func capturingLogger(_ sink: CapturedLog) -> Logger {
    Logger(label: "test") { _ in CapturingLogHandler(sink: sink) }
}

func makeKernel(_ directory: URL, log: CapturedLog = CapturedLog()) async throws -> Kernel {
    let kernel = Kernel(pluginDirectory: directory, logger: capturingLogger(log))
    _ = try kernel.registry.rescan()
    return kernel
}

extension Process {
    /// Waits for the process to end on a thread of its own (never on the concurrency pool); its exit status.
    @discardableResult
    func exited() async -> Int32 {
        await withCheckedContinuation { c in
            Thread.detachNewThread {
                self.waitUntilExit()
                c.resume(returning: self.terminationStatus)
            }
        }
    }
}

/// Real time plus an offset a test moves forward: "nothing more happens" is proven by jumping past every
/// retry and lease and looking, not by waiting.
final class TestClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)
    var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }
    func advance(by seconds: TimeInterval) { offset.withLock { $0 += seconds } }
    var source: HostClock { { self.now } }
}
