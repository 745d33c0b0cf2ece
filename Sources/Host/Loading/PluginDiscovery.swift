import Foundation

/// Finds plugin files: every `*.so` directly in the plugin directory, in name order.
public enum PluginDiscovery {
    static func sharedObjects(in directory: URL) throws -> [URL] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw HostError.invalid("plugin directory \(directory.path) cannot be read: \(error.localizedDescription)")
        }
        return names.filter { $0.hasSuffix(".so") && !$0.hasPrefix(".") }.sorted()
            .map { directory.appendingPathComponent($0) }
    }

    /// The default plugin directory: next to the `synchost` binary when plugins are there (a build tree or
    /// an install prefix), then `./plugins`.
    public static func defaultDirectory() -> URL {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for candidate in [exe.appendingPathComponent("plugins"), exe] {
            if let found = try? sharedObjects(in: candidate), !found.isEmpty { return candidate }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("plugins")
    }

    /// A cheap content fingerprint (FNV-1a 64 over the bytes, plus the size) to notice a replaced file. Read, not
    /// mapped: a file being copied over in place meanwhile (`cp new.so plugins/`) only reads short, where a mapping
    /// of it would fault (SIGBUS) and take the host down.
    static func fingerprint(of url: URL) -> String {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "unreadable" }
        defer { close(fd) }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var size = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return "unreadable" }
            if n == 0 { break }
            buffer.withUnsafeBytes { raw in
                for byte in UnsafeRawBufferPointer(rebasing: raw[0..<n]) { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            }
            size += n
        }
        return String(hash, radix: 16) + "-" + String(size)
    }
}
