import Glibc

/// `pread` / `pwrite` on the calling worker thread: each request completes within `submit`.
final class PosixQueue: ImmediateQueue, IOQueue {
    let kind = EngineKind.posix
    let capabilities: QueueCapabilities = [.movesData]
    var pathDescription: String { "POSIX pread/pwrite on worker threads" }

    func submit(_ requests: UnsafeBufferPointer<IORequest>, path: String) throws(AsyncIOError) -> Int {
        for r in requests {
            var result: Int
            repeat {
                result = r.operation == .read
                    ? pread(r.fd, r.address, r.length, off_t(r.offset))
                    : pwrite(r.fd, r.address, r.length, off_t(r.offset))
                if result < 0 { result = -Int(currentErrno()) }
            } while result == -Int(EINTR)
            ready.append(IOCompletion(tag: r.tag, result: result))
        }
        return requests.count
    }
}
