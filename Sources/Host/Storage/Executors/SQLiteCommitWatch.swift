import Foundation
import Synchronization

/// Whether anything was committed to a SQLite database since a moment, known without a lock or a transaction:
/// the WAL index header SQLite keeps at the start of the `-shm` file (two copies of 48 bytes, rewritten by every
/// commit of every connection in every process — `iChange` counts them; https://sqlite.org/walformat.html). A
/// read transaction costs two `fcntl` locks on this machine (~2 µs); reading the header is one `pread`.
///
/// A stamp is taken only when both copies agree (a commit writes the second copy, then the first); equal stamps
/// mean no commit in between. The `-shm` file lives as long as any connection to the database is open, and the
/// host's own stay open; should the file ever be replaced, the watch stops answering (every read goes to SQLite).
///
/// The watch never closes the `-shm` file it opened. POSIX record locks belong to the process, and closing any
/// descriptor of a file drops every lock the process holds on it — SQLite's own among them. Another process opening
/// the database (the CLI, a second host) then finds the index unlocked, truncates and rebuilds it under this
/// process's connections, whose mapping of it faults (SIGBUS; seen in the test suite). So each `-shm` file is
/// opened once per process (`SharedIndexFiles`) and kept open.
final class SQLiteCommitWatch: Sendable {
    let path: String
    /// The `-shm` file's descriptor (-1 until it exists), and its identity when opened.
    private let fd = Atomic<Int32>(-1)
    private let identity = Mutex<(dev: UInt64, ino: UInt64)?>(nil)
    /// When the path was last checked to still name the opened file (monotonic nanoseconds), and whether it did not.
    private let checkedAt = Atomic<UInt64>(0)
    private let broken = Atomic<Bool>(false)
    static let recheckNanos: UInt64 = 1_000_000_000

    init(databasePath: String) { path = databasePath + "-shm" }

    /// The header now; nil when it cannot be read consistently (no WAL index yet, a commit being written, the file
    /// replaced): the caller then reads the database.
    func stamp() -> CommitStamp? {
        guard !broken.load(ordering: .relaxed), let f = openedFile() else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let n = withUnsafeMutableBytes(of: &words) { pread(f, $0.baseAddress, 96, 0) }
        guard n == 96 else { return nil }
        let first = CommitStamp(a: words.0, b: words.1, c: words.2, d: words.3, e: words.4, f: words.5)
        let second = CommitStamp(a: words.6, b: words.7, c: words.8, d: words.9, e: words.10, f: words.11)
        // isInit (byte 12: bits 32-39 of the second word on this little-endian host) is set once the index is built.
        guard first == second, (first.b >> 32) & 0xFF != 0 else { return nil }
        return first
    }

    private func openedFile() -> Int32? {
        var f = fd.load(ordering: .acquiring)
        if f < 0 {
            guard let opened = SharedIndexFiles.open(path) else { return nil }
            let (exchanged, current) = fd.compareExchange(expected: -1, desired: opened.fd, ordering: .acquiringAndReleasing)
            if exchanged {
                identity.withLock { $0 = (opened.dev, opened.ino) }
                checkedAt.store(Self.now(), ordering: .relaxed)
                f = opened.fd
            } else {
                f = current
            }
        }
        let now = Self.now()
        if now &- checkedAt.load(ordering: .relaxed) > Self.recheckNanos {
            checkedAt.store(now, ordering: .relaxed)
            var st = stat()
            let same = stat(path, &st) == 0 && identity.withLock { $0.map { $0.dev == UInt64(st.st_dev) && $0.ino == UInt64(st.st_ino) } ?? false }
            if !same {
                broken.store(true, ordering: .relaxed)
                return nil
            }
        }
        return f
    }

    private static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
