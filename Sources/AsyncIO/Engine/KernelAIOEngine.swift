import CAsyncIO
import Glibc

/// Linux kernel AIO (`io_setup` / `io_submit` / `io_getevents`), called directly: no libaio.
///
/// One context per worker, sized to the queue depth. The context handle starts zeroed, as the
/// kernel requires. `EAGAIN` from `io_setup` means the system-wide `fs.aio-max-nr` is used up.
final class KernelAIOQueue: IOQueue {
    let kind = EngineKind.aio
    let capacity: Int
    var pathDescription: String { "kernel AIO (io_submit/io_getevents)" }

    private var context: aio_context_t = 0
    /// Requests submitted and not yet reaped: the context may be destroyed off this thread only
    /// when none are (io_destroy waits for them, and their buffers must outlive that wait).
    private var outstanding = 0
    private let iocbs: UnsafeMutablePointer<iocb>
    private let pointers: UnsafeMutablePointer<UnsafeMutablePointer<iocb>?>
    private let events: UnsafeMutablePointer<io_event>

    init(depth: Int) throws(AsyncIOError) {
        capacity = depth
        var ctx: aio_context_t = 0
        var waitedMillis = 0
        while CAsyncIO_io_setup(UInt32(depth), &ctx) < 0 {
            let code = currentErrno()
            if code == EINTR { continue }
            // A context this process destroys in the background counts in fs.aio-nr until its
            // io_destroy has begun (the kernel subtracts it first, then waits): near the limit, let
            // those threads run before calling the limit reached.
            if code == EAGAIN, CAsyncIO_io_destroys_pending() > 0, waitedMillis < 2000 {
                usleep(2000)
                waitedMillis += 2
                continue
            }
            let hint: String?
            switch code {
            case EAGAIN:
                let nr = readSmallFile("/proc/sys/fs/aio-nr")?.filter(\.isNumber) ?? "?"
                let max = readSmallFile("/proc/sys/fs/aio-max-nr")?.filter(\.isNumber) ?? "?"
                hint = "the system-wide limit fs.aio-max-nr is exhausted (aio-nr \(nr) of \(max)); "
                    + "raise it with sysctl -w fs.aio-max-nr=N or lower the queue depth"
            case ENOSYS:
                hint = "this kernel has no AIO support"
            default:
                hint = nil
            }
            throw .system("io_setup(\(depth))", errno: code, hint: hint)
        }
        context = ctx
        iocbs = .allocate(capacity: depth)
        pointers = .allocate(capacity: depth)
        events = .allocate(capacity: depth)
        for i in 0..<depth { pointers[i] = iocbs + i }
    }

    /// `io_cancel` for each tag. Regular files have no cancel method in the kernel, which then
    /// answers `EINVAL` (or `EAGAIN`): the request runs to its end and is reaped as usual.
    func cancel(tags: [Int]) {
        var result = io_event()
        for tag in tags where tag >= 0 && tag < capacity {
            _ = CAsyncIO_io_cancel(context, iocbs + tag, &result)
        }
    }

    deinit {
        // io_destroy waits for an RCU grace period, 30-50 ms on a small VM: paid by every handle
        // of a sweep's run (once per worker) when called here. With nothing in flight nothing is
        // left for it to wait for, so it runs on a thread of its own.
        _ = outstanding == 0 ? CAsyncIO_io_destroy_detached(context) : CAsyncIO_io_destroy(context)
        iocbs.deallocate()
        pointers.deallocate()
        events.deallocate()
    }

    func prepare(memory: UnsafeMutableRawBufferPointer, region: UnsafeMutableRawBufferPointer?, fds: [Int32]) {}

    func submit(_ requests: UnsafeBufferPointer<IORequest>, path: String) throws(AsyncIOError) -> Int {
        let n = min(requests.count, capacity)
        if n == 0 { return 0 }
        for i in 0..<n {
            let r = requests[i]
            let opcode = UInt16(r.operation == .read ? IOCB_CMD_PREAD : IOCB_CMD_PWRITE)
            // One iocb per slot (tags are slot numbers below the depth): `io_cancel` finds a
            // request by the address of its iocb, so no two in-flight requests may share one.
            let cb = iocbs + r.tag
            CAsyncIO_iocb_prep(cb, opcode, r.fd, r.address, UInt64(r.length), r.offset, UInt64(r.tag))
            pointers[i] = cb
        }
        while true {
            let rc = CAsyncIO_io_submit(context, n, pointers)
            if rc >= 0 {
                outstanding += rc
                return rc
            }
            let code = currentErrno()
            if code == EINTR { continue }
            if code == EAGAIN { return 0 }
            throw .system("io_submit", errno: code, path: path, offset: requests[0].offset)
        }
    }

    func reap(minimum: Int, into out: inout [IOCompletion], path: String) throws(AsyncIOError) {
        var got = 0
        repeat {
            let rc = CAsyncIO_io_getevents(context, minimum - got, capacity, events, nil)
            if rc < 0 {
                let code = currentErrno()
                if code == EINTR { continue }
                throw .system("io_getevents", errno: code, path: path)
            }
            for i in 0..<rc {
                out.append(IOCompletion(tag: Int(events[i].data), result: Int(events[i].res)))
            }
            got += rc
            outstanding -= rc
        } while got < minimum
    }
}
