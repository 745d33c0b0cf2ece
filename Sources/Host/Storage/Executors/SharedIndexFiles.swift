import Foundation
import Synchronization

/// The `-shm` files this process has opened to read commit stamps, one descriptor per file, never closed (closing
/// one would drop SQLite's locks on it: see `SQLiteCommitWatch`). A path whose file was replaced (every connection
/// closed, the database opened again) gets a new descriptor and the old one stays open: one per database file and
/// incarnation this process has read stamps of (a single one for a host).
enum SharedIndexFiles {
    private static let files = Mutex<[String: (fd: Int32, dev: UInt64, ino: UInt64)]>([:])

    /// The open file the path names now; nil while there is none.
    static func open(_ path: String) -> (fd: Int32, dev: UInt64, ino: UInt64)? {
        files.withLock { files in
            var now = stat()
            guard stat(path, &now) == 0 else { return nil }
            if let known = files[path], known.dev == UInt64(now.st_dev), known.ino == UInt64(now.st_ino) { return known }
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            var st = stat()
            guard fstat(fd, &st) == 0 else { return nil }  // kept open all the same: closing it is what must not happen
            let file = (fd: fd, dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
            files[path] = file
            return file
        }
    }
}
