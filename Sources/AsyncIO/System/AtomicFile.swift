import CAsyncIO
import Glibc

/// A new file beside a target, written and then renamed over it, so that a reader sees the old
/// file or the whole new one and never a part.
///
/// Create it with `AtomicFile(replacing:)` (a temporary name in the target's folder, created
/// with `O_EXCL | O_NOFOLLOW`, mode 0600), `write` the bytes, then `commit()`: fsync, close,
/// rename over the target and fsync of the folder. Until `commit()` succeeds, the temporary
/// file is removed when the value is released, also on every error path.
package final class AtomicFile {
    /// The file the contents will replace.
    package let target: String
    /// The temporary file being written (register it for removal on a signal if that matters).
    package let temporaryPath: String
    private var fd: Int32
    private var committed = false

    /// Creates the temporary file in `target`'s folder.
    ///
    /// - Throws: `AsyncIOError` for `open`, naming the temporary path.
    package init(replacing target: String) throws(AsyncIOError) {
        self.target = target
        let hidden = ".\(PathName.lastComponent(of: target)).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        temporaryPath = PathName.join(PathName.parent(of: target), hidden)
        let path = temporaryPath
        fd = try syscallRetrying("open", path: path) {
            open(path, O_WRONLY | O_CREAT | O_EXCL | CAsyncIO_O_CLOEXEC | CAsyncIO_O_NOFOLLOW, 0o600)
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !committed { unlink(temporaryPath) }
    }

    /// The folder the target lives in.
    package var folder: String { PathName.parent(of: target) }

    /// Appends `bytes` to the temporary file.
    package func write(_ bytes: [UInt8]) throws(AsyncIOError) {
        var offset = 0
        let path = temporaryPath
        let fd = self.fd
        while offset < bytes.count {
            let written = try syscallRetrying("write", path: path) {
                bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            }
            offset += written
        }
    }

    /// Flushes the temporary file, renames it over the target and flushes the folder.
    ///
    /// - Parameter durable: false skips both flushes: the rename is still atomic for every reader
    ///   and survives the process being killed, but not a power loss. For files written many times in
    ///   a row that are flushed together later (`FileSystem.syncFileSystem(containing:)`): each flush
    ///   of a small file costs a journal commit, 100 ms on a busy virtual disk.
    package func commit(durable: Bool = true) throws(AsyncIOError) {
        let path = temporaryPath
        let fd = self.fd
        if durable { _ = try syscallRetrying("fsync", path: path) { fsync(fd) } }
        self.fd = -1
        _ = try syscallRetrying("close", path: path) { close(fd) }
        let target = self.target
        _ = try syscallRetrying("rename", path: target) { rename(path, target) }
        committed = true
        guard durable else { return }
        let directory = open(folder, O_RDONLY | O_DIRECTORY | CAsyncIO_O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }
}
