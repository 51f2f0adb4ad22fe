import Glibc

/// Dropping the page cache: the whole cache as root, else our own files.
public enum PageCache {
    /// How the cache will be dropped here, in words.
    public static func method() -> String {
        access("/proc/sys/vm/drop_caches", W_OK) == 0 && geteuid() == 0
            ? "/proc/sys/vm/drop_caches (root: sync, then drop every clean page)"
            : "posix_fadvise(POSIX_FADV_DONTNEED) on the test files (not root)"
    }

    /// Drops the cache: `sync` then `3` to drop_caches as root, else fadvise on `files`.
    public static func drop(method: String, files: [String]) {
        if method.hasPrefix("/proc") {
            sync()
            let fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC)
            if fd >= 0 {
                _ = "3\n".withCString { Glibc.write(fd, $0, 2) }
                close(fd)
            }
            return
        }
        for path in files {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 {
                fdatasync(fd)
                _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
                close(fd)
            }
        }
    }
}
