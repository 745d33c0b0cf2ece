import Foundation

/// A call into an isolated plugin ended because its worker process died (a signal, an exit, or killed for not
/// answering its heartbeat). The run it belonged to is marked `crashed` and retried by its policy.
public struct PluginCrashed: Error, Sendable, CustomStringConvertible {
    public var plugin: String
    /// E.g. "signal 11 (SIGSEGV)", "exited with status 3", "no heartbeat answer within 20 s (killed)".
    public var reason: String

    public var description: String { "crashed: plugin \(plugin)'s worker process died: \(reason)" }

    static func signalName(_ n: Int32) -> String {
        let names: [Int32: String] = [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
                                      9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 24: "SIGXCPU", 25: "SIGXFSZ"]
        return "signal \(n) (\(names[n] ?? "SIG?"))"
    }
}
