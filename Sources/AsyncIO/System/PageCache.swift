import CAsyncIO
import Glibc

/// Emptying the kernel's page cache, so the next read of a file comes from the device.
package enum PageCache {
    /// Whether `dropAll()` can work: root, and `/proc/sys/vm/drop_caches` writable.
    package static var canDropAll: Bool { geteuid() == 0 && access(dropCachesPath, W_OK) == 0 }

    static let dropCachesPath = "/proc/sys/vm/drop_caches"

    /// How `dropAll()` works, in words.
    package static let dropAllMethod = "/proc/sys/vm/drop_caches (root: sync, then drop every clean page)"
    /// How `drop(file:)` works, in words.
    package static let dropFileMethod = "posix_fadvise(POSIX_FADV_DONTNEED) on the test files (not root)"

    /// Writes dirty pages back (`sync`) and drops the whole page cache (`3` into
    /// `/proc/sys/vm/drop_caches`). Needs root.
    package static func dropAll() throws(AsyncIOError) {
        sync()
        let path = dropCachesPath
        let fd = try syscallRetrying("open", path: path) { open(path, O_WRONLY | CAsyncIO_O_CLOEXEC) }
        defer { close(fd) }
        _ = try syscallRetrying("write", path: path) { "3\n".withCString { write(fd, $0, 2) } }
    }

    /// Drops the cached pages of one file (`posix_fadvise(POSIX_FADV_DONTNEED)`), which any
    /// user may do for a file they can open. A missing file is not an error.
    package static func drop(file path: String) throws(AsyncIOError) {
        let fd = open(path, O_RDONLY | CAsyncIO_O_CLOEXEC)
        if fd < 0 {
            let code = currentErrno()
            if code == ENOENT { return }
            throw .system("open", errno: code, path: path)
        }
        defer { close(fd) }
        _ = fdatasync(fd)
        let rc = posix_fadvise(fd, 0, 0, CAsyncIO_FADV_DONTNEED)
        if rc != 0 { throw .system("posix_fadvise", errno: rc, path: path) }
    }
}
