import CAsyncIO
import Glibc

/// Paths and folders: status, creation, removal, listing and small whole-file reads.
///
/// Everything the layers above `AsyncIO` need from the file system goes through here, so they
/// never touch a descriptor, `errno` or a pointer. Failures throw `AsyncIOError` naming the
/// operation, the path and errno.
package enum FileSystem {
    /// The status of `path`; with `followLinks` false a symbolic link is reported as one.
    ///
    /// The corresponding C functions are `stat` and `lstat`.
    package static func status(of path: String, followLinks: Bool = true) throws(AsyncIOError) -> FileStatus {
        var st = stat()
        if followLinks {
            _ = try syscallRetrying("stat", path: path) { stat(path, &st) }
        } else {
            _ = try syscallRetrying("lstat", path: path) { lstat(path, &st) }
        }
        return FileStatus(st)
    }

    /// The status of `path`, or nil when nothing is there (`ENOENT`); other failures throw.
    package static func statusIfPresent(of path: String, followLinks: Bool = true) throws(AsyncIOError)
        -> FileStatus?
    {
        do {
            return try status(of: path, followLinks: followLinks)
        } catch where error.code == .noSuchFile {
            return nil
        }
    }

    /// Whether the calling process may access `path` in `mode` (`.exists` only checks presence).
    ///
    /// The corresponding C function is `access`.
    package static func isAccessible(_ path: String, _ mode: FileAccessMode = .exists) -> Bool {
        access(path, mode.isEmpty ? F_OK : mode.rawValue) == 0
    }

    /// Throws the reason `path` cannot be accessed in `mode`, or returns when it can.
    package static func checkAccess(_ path: String, _ mode: FileAccessMode) throws(AsyncIOError) {
        _ = try syscallRetrying("access", path: path) { access(path, mode.isEmpty ? F_OK : mode.rawValue) }
    }

    /// Creates the folder `path` with `permissions`; throws `EEXIST` (`Errno.fileExists`) when
    /// something is there already.
    ///
    /// The corresponding C function is `mkdir`.
    package static func createDirectory(_ path: String, permissions: UInt32 = 0o700) throws(AsyncIOError) {
        _ = try syscallRetrying("mkdir", path: path) { mkdir(path, mode_t(permissions)) }
    }

    /// Removes the file (or link) `path`.
    ///
    /// The corresponding C function is `unlink`.
    package static func removeFile(_ path: String) throws(AsyncIOError) {
        _ = try syscallRetrying("unlink", path: path) { unlink(path) }
    }

    /// Flushes `path`'s data and metadata to its device (`fsync`), the device's write cache included.
    ///
    /// - Throws: `AsyncIOError` for `open` or `fsync`, naming `path`.
    package static func syncFile(_ path: String) throws(AsyncIOError) {
        let fd = try syscallRetrying("open", path: path) { open(path, O_RDONLY | CAsyncIO_O_CLOEXEC) }
        defer { close(fd) }
        _ = try syscallRetrying("fsync", path: path) { fsync(fd) }
    }

    /// Flushes every file of the file system that holds `path` to its device (`syncfs`).
    ///
    /// - Throws: `AsyncIOError` for `open` or `syncfs`, naming `path`.
    package static func syncFileSystem(containing path: String) throws(AsyncIOError) {
        let fd = try syscallRetrying("open", path: path) { open(path, O_RDONLY | CAsyncIO_O_CLOEXEC) }
        defer { close(fd) }
        _ = try syscallRetrying("syncfs", path: path) { CAsyncIO_syncfs(fd) }
    }

    /// Removes `path` if it is there; returns whether a file was removed. Errors other than
    /// "not there" are ignored: for clean-up paths that must not fail.
    @discardableResult
    package static func removeFileIfPresent(_ path: String) -> Bool { unlink(path) == 0 }

    /// Removes the folder `path` when it is empty; returns whether it was removed.
    @discardableResult
    package static func removeEmptyDirectory(_ path: String) -> Bool { rmdir(path) == 0 }

    /// Removes `path` and, when it is a folder, everything in it. Symbolic links are removed,
    /// never followed. Returns quietly when nothing is there.
    package static func removeTree(_ path: String) throws(AsyncIOError) {
        guard let status = try statusIfPresent(of: path, followLinks: false) else { return }
        if status.kind == .directory {
            for name in try contentsOfDirectory(path) { try removeTree(path + "/" + name) }
            _ = try syscallRetrying("rmdir", path: path) { rmdir(path) }
        } else {
            try removeFile(path)
        }
    }

    /// The names in the folder `path` (without `.` and `..`), in no particular order.
    ///
    /// The corresponding C functions are `opendir` and `readdir`.
    package static func contentsOfDirectory(_ path: String) throws(AsyncIOError) -> [String] {
        guard let dir = opendir(path) else { throw .system("opendir", errno: currentErrno(), path: path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = String(decoding: directoryEntryName(entry), as: UTF8.self)
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The canonical absolute form of `path`, every symbolic link resolved.
    ///
    /// The corresponding C function is `realpath`.
    package static func resolvedPath(_ path: String) throws(AsyncIOError) -> String {
        guard let resolved = realpath(path, nil) else {
            throw .system("realpath", errno: currentErrno(), path: path)
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The process's working folder.
    package static var currentDirectory: String {
        guard let cwd = getcwd(nil, 0) else { return "." }
        defer { free(cwd) }
        return String(cString: cwd)
    }

    /// The whole contents of `path`, at most `limit` bytes (more is an error). Works on
    /// regular files, pipes, process substitution and standard input (`/dev/stdin`).
    ///
    /// - Throws: `AsyncIOError` for `open`/`read`; `EFBIG` when the file passes `limit`.
    package static func contents(of path: String, limit: Int = 64 << 20) throws(AsyncIOError) -> [UInt8] {
        let fd = try syscallRetrying("open", path: path) { open(path, O_RDONLY | CAsyncIO_O_CLOEXEC) }
        defer { close(fd) }
        return try readAll(fd: fd, path: path, limit: limit)
    }

    /// The contents of `path` as UTF-8 text (invalid bytes replaced).
    package static func text(of path: String, limit: Int = 64 << 20) throws(AsyncIOError) -> String {
        String(decoding: try contents(of: path, limit: limit), as: UTF8.self)
    }

    /// A small text file such as one under /proc or /sys, or nil when it cannot be read.
    package static func smallText(of path: String) -> String? { readSmallFile(path) }

    static func readAll(fd: Int32, path: String, limit: Int) throws(AsyncIOError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try syscallRetrying("read", path: path) {
                chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            }
            if n == 0 { return bytes }
            if bytes.count + n > limit {
                throw .system("read", errno: EFBIG, path: path, hint: "larger than \(limit) bytes")
            }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// Statistics of the file system that holds `path`.
    ///
    /// The corresponding C functions are `statvfs` and `statfs`.
    package static func fileSystemStats(of path: String) throws(AsyncIOError) -> FileSystemStats {
        var vfs = statvfs()
        _ = try syscallRetrying("statvfs", path: path) { statvfs(path, &vfs) }
        var type: Int64 = 0
        _ = try syscallRetrying("statfs", path: path) { CAsyncIO_fs_type(path, &type) }
        let unit = Int64(vfs.f_frsize == 0 ? vfs.f_bsize : vfs.f_frsize)
        return FileSystemStats(
            totalBytes: Int64(vfs.f_blocks) * unit, availableBytes: Int64(vfs.f_bavail) * unit,
            typeMagic: type)
    }
}

/// The name of the directory entry `readdir` returned, read where it lies.
///
/// `dirent.d_name` is declared as 256 bytes, but the kernel packs entries by the length of their
/// names, so copying the field (`entry.pointee.d_name`) reads past the end of the last entry in
/// readdir's buffer: with more than about 1,360 open descriptors, `/proc/self/fd` fills the buffer and
/// AddressSanitizer stops the process with a heap-buffer-overflow.
func directoryEntryName(_ entry: UnsafeMutablePointer<dirent>) -> UnsafeBufferPointer<UInt8> {
    let name = UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!
    return UnsafeBufferPointer(start: name.assumingMemoryBound(to: UInt8.self),
                               count: strlen(name.assumingMemoryBound(to: CChar.self)))
}

