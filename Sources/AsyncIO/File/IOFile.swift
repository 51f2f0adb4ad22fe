import CAsyncIO
import Glibc

/// How a file is opened for an operation.
package enum FileAccess: Sendable, Equatable {
    /// Read an existing file.
    case read
    /// Create or open for writing; `truncate` drops any old contents (a smaller write must not
    /// leave a stale tail).
    case write(truncate: Bool)
}

/// An open file for one operation: a direct (`O_DIRECT`) descriptor and an ordinary one.
///
/// The direct descriptor carries the aligned bulk of the transfer; the ordinary one carries a
/// tail or an offset that is not a multiple of the direct-I/O alignment, so such a transfer
/// succeeds instead of failing with `EINVAL`. When `direct` is false both are ordinary.
/// Files are created with mode 0666 less the umask (0600 when `privateMode`), never through a
/// symbolic link.
// @unchecked: every stored property is a `let`; the descriptors are only read (by pread/pwrite and the
// kernel) until `deinit` closes them, which runs when the last operation using the file has released it.
package final class IOFile: @unchecked Sendable {
    /// The path the file was opened with.
    package let path: String
    /// The descriptor for aligned transfers (`O_DIRECT` when `isDirect`).
    let directFD: Int32
    /// The descriptor for transfers that are not aligned.
    let bufferedFD: Int32
    /// Whether `directFD` bypasses the page cache.
    package let isDirect: Bool
    /// Required alignment of file offsets and lengths on `directFD` (1 when not direct).
    package let offsetAlignment: Int
    /// Required alignment of memory addresses on `directFD` (1 when not direct).
    package let memoryAlignment: Int

    /// Opens `path`.
    ///
    /// - Throws: `AsyncIOError` naming `open` and the path; a file system that refuses
    ///   `O_DIRECT` gets a hint to use buffered I/O.
    package init(path: String, access: FileAccess, direct: Bool, privateMode: Bool = false) throws(AsyncIOError) {
        self.path = path
        var flags: Int32 = CAsyncIO_O_CLOEXEC
        switch access {
        case .read:
            flags |= O_RDONLY
        case .write(let truncate):
            flags |= O_WRONLY | O_CREAT | CAsyncIO_O_NOFOLLOW
            if truncate { flags |= O_TRUNC }
        }
        let buffered = try syscallRetrying("open", path: path) { open(path, flags, privateMode ? 0o600 : 0o666) }
        if direct {
            let directFlags = (flags & ~O_TRUNC & ~O_CREAT) | CAsyncIO_O_DIRECT
            let fd = open(path, directFlags)
            if fd < 0 {
                let code = currentErrno()
                close(buffered)
                let hint = code == EINVAL
                    ? "the file system may not support direct I/O (O_DIRECT); use buffered I/O instead"
                    : nil
                throw .system("open (O_DIRECT)", errno: code, path: path, hint: hint)
            }
            self.directFD = fd
            let (mem, off) = IOFile.directIOAlignment(fd: fd)
            self.memoryAlignment = mem
            self.offsetAlignment = off
        } else {
            self.directFD = buffered
            self.memoryAlignment = 1
            self.offsetAlignment = 1
        }
        self.bufferedFD = buffered
        self.isDirect = direct
    }

    deinit {
        if directFD != bufferedFD { close(directFD) }
        close(bufferedFD)
    }

    /// The file's current size in bytes.
    package func size() throws(AsyncIOError) -> Int64 {
        var st = stat()
        _ = try syscallRetrying("fstat", path: path) { fstat(bufferedFD, &st) }
        return Int64(st.st_size)
    }

    /// Reserves `length` bytes at `offset` on the device (`fallocate`, mode 0), extending the file.
    ///
    /// Direct writes into reserved space need no block allocation, so io_uring can issue them
    /// without handing them to its worker threads (which serialise writes to one file). Returns
    /// false when the file system cannot do it (nothing is written as a fallback).
    @discardableResult
    package func preallocate(offset: Int64, length: Int64) -> Bool {
        guard length > 0 else { return true }
        while CAsyncIO_fallocate(bufferedFD, offset, length) != 0 {
            if currentErrno() != EINTR { return false }
        }
        return true
    }

    /// Sets the file's size to `size` bytes, dropping what lies beyond or adding zeros.
    ///
    /// The corresponding C function is `ftruncate`.
    package func setSize(_ size: Int64) throws(AsyncIOError) {
        _ = try syscallRetrying("ftruncate", path: path) { ftruncate(bufferedFD, off_t(size)) }
    }

    /// Flushes the file's data to the device.
    package func sync() throws(AsyncIOError) {
        _ = try syscallRetrying("fsync", path: path) { fsync(bufferedFD) }
    }

    /// The direct-I/O alignment for an open file: `statx(STATX_DIOALIGN)`, else the logical
    /// block size of the device behind it, else 4096.
    static func directIOAlignment(fd: Int32) -> (memory: Int, offset: Int) {
        var mem: UInt32 = 0
        var off: UInt32 = 0
        if CAsyncIO_dio_align(fd, &mem, &off) == 0, mem > 0, off > 0 {
            return (Int(mem), Int(off))
        }
        var st = stat()
        if fstat(fd, &st) == 0, let size = DeviceInfo.logicalBlockSize(device: st.st_dev) {
            return (size, size)
        }
        return (4096, 4096)
    }

    /// The direct-I/O offset alignment of the file system holding `folder` (creates and removes
    /// a probe file). Returns nil when the folder refuses `O_DIRECT`.
    package static func directIOAlignment(folder: String) -> Int? {
        let probe = folder + "/.aio_bench_align_probe.\(getpid())"
        guard let file = try? IOFile(path: probe, access: .write(truncate: true), direct: true) else {
            unlink(probe)
            return nil
        }
        unlink(probe)
        return file.offsetAlignment
    }

    /// Refuses a size (`what`: "block size", "stripe size", ...) that direct requests on this file would
    /// need aligned and that is not a multiple of its direct-I/O alignment; any size passes otherwise.
    func checkAligned(_ what: String, _ value: Int, operation: String) throws(AsyncIOError) {
        guard isDirect, value % offsetAlignment != 0 else { return }
        throw .invalid(operation, "\(what) \(value) is not a multiple of the direct I/O alignment \(offsetAlignment) "
                       + "of this file system", path: path)
    }
}

/// Facts about block devices, read from sysfs.
enum DeviceInfo {
    /// The logical block size of the block device with number `device`, if sysfs tells it.
    static func logicalBlockSize(device: dev_t) -> Int? {
        let major = (device >> 8) & 0xfff | ((device >> 32) & ~0xfff)
        let minor = (device & 0xff) | ((device >> 12) & ~0xff)
        let base = "/sys/dev/block/\(major):\(minor)"
        for candidate in [base + "/queue/logical_block_size", base + "/../queue/logical_block_size"] {
            if let text = readSmallFile(candidate),
               let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), value > 0 {
                return value
            }
        }
        return nil
    }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}

extension Set where Element == Character {
    static let whitespacesAndNewlines: Set<Character> = [" ", "\t", "\n", "\r"]
}
