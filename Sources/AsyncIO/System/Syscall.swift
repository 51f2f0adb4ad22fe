import CAsyncIO
import Glibc

/// Runs a system call that returns -1 and sets errno on failure, retrying `EINTR`.
///
/// Returns the call's non-negative result, or throws an `AsyncIOError` naming `operation`
/// and `path`. This is the only place above the C shim that reads errno.
@inline(__always)
func syscallRetrying<T: BinaryInteger>(
    _ operation: String, path: String? = nil, _ body: () -> T
) throws(AsyncIOError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = CAsyncIO_errno()
        if code == EINTR { continue }
        throw .system(operation, errno: code, path: path)
    }
}

/// The current errno value, read right after a failed call.
@inline(__always)
func currentErrno() -> Int32 { CAsyncIO_errno() }

/// Reads a small text file such as one under /proc or /sys; nil when it cannot be read.
func readSmallFile(_ path: String, limit: Int = 1 << 20) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while bytes.count < limit {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if CAsyncIO_errno() == EINTR { continue }
            return nil
        }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}
