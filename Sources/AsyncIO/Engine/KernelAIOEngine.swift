import CAsyncIO
import Glibc
import Synchronization

/// Linux kernel AIO (`io_setup` / `io_submit` / `io_getevents`), called directly: no libaio.
///
/// One context per worker, sized to the queue depth. The context handle starts zeroed, as the
/// kernel requires. `EAGAIN` from `io_setup` means the system-wide `fs.aio-max-nr` is used up.
///
/// A worker blocked in `io_getevents` is woken for new work by a one-shot `IOCB_CMD_POLL` of its
/// `QueueWakeup` eventfd, kept in the context beside the requests (one more slot than the depth).
final class KernelAIOQueue: IOQueue {
    let capabilities: QueueCapabilities = [.keepsRequestsInFlight, .overlapsOperations, .mergesBatches, .movesData]
    let kind = EngineKind.aio
    let capacity: Int
    var pathDescription: String { "kernel AIO (io_submit/io_getevents)" }
    /// Wakes the worker out of `io_getevents` when new work is queued (see `QueueWakeup`); nil when
    /// no eventfd could be had.
    let wakeup: QueueWakeup?
    /// False once the kernel refused the poll (before Linux 4.18): waits then end at completions.
    private var pollWorks = true
    /// Whether the wake-up's poll is in the context.
    private var wakeArmed = false
    /// How many times the poll ended a wait (for tests).
    private(set) var pollWakeups = 0
    /// The `aio_data` of the wake-up's poll: never a slot number.
    private static let wakeMarker = UInt64.max - 1

    private var context: aio_context_t = 0
    /// Requests submitted and not yet reaped: the context may be destroyed off this thread only
    /// when none are (io_destroy waits for them, and their buffers must outlive that wait).
    private var outstanding = 0
    private let iocbs: UnsafeMutablePointer<iocb>
    private let pointers: UnsafeMutablePointer<UnsafeMutablePointer<iocb>?>
    private let events: UnsafeMutablePointer<io_event>

    init(depth: Int) throws(AsyncIOError) {
        capacity = depth
        wakeup = QueueWakeup()
        // The slot of the wake-up's poll; the iocb past the requests' is its own.
        let slots = depth + 1
        var ctx: aio_context_t = 0
        var waitedMillis = 0
        while CAsyncIO_io_setup(UInt32(slots), &ctx) < 0 {
            let code = currentErrno()
            if code == EINTR { continue }
            // A context this process destroys in the background counts in fs.aio-nr until its
            // io_destroy has begun (the kernel subtracts it first, then waits): near the limit, let
            // those threads run before calling the limit reached.
            if code == EAGAIN, CAsyncIO_io_destroys_pending() > 0, waitedMillis < 2000 {
                if waitedMillis == 0 { KernelAIOCounters.waited.add(1, ordering: .relaxed) }
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
        iocbs = .allocate(capacity: slots)
        pointers = .allocate(capacity: slots)
        events = .allocate(capacity: slots)
        for i in 0..<slots { pointers[i] = iocbs + i }
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
        // An armed poll needs no waiting for: io_destroy cancels it, and it touches no buffer.
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

    /// Puts the wake-up's one-shot poll in the context; a kernel that refuses it (before 4.18:
    /// `EINVAL`) loses the wake-up for good, and the worker takes new work at its next completion.
    private func armWakeup() {
        guard let wakeup, !wakeArmed else { return }
        let cb = iocbs + capacity
        CAsyncIO_iocb_prep_poll(cb, wakeup.fd, UInt32(POLLIN), KernelAIOQueue.wakeMarker)
        var one: UnsafeMutablePointer<iocb>? = cb
        while true {
            if CAsyncIO_io_submit(context, 1, &one) == 1 {
                wakeArmed = true
                return
            }
            let code = currentErrno()
            if code == EINTR { continue }
            if code != EAGAIN { pollWorks = false }
            return
        }
    }

    /// Waits for `minimum` completions, or less when the wake-up fires (new work was queued for
    /// this worker: the caller goes and takes it, then waits again).
    func reap(minimum: Int, into out: inout [IOCompletion], path: String) throws(AsyncIOError) {
        var got = 0
        var woken = false
        repeat {
            let blocks = minimum - got > 0 && pollWorks
            if blocks, let wakeup {
                // Armed only when about to block: a poll never waits in the context for nothing.
                guard wakeup.willWait() else { break }
                armWakeup()
            }
            let rc = CAsyncIO_io_getevents(context, minimum - got, capacity + 1, events, nil)
            if blocks { wakeup?.didWait() }
            if rc < 0 {
                let code = currentErrno()
                if code == EINTR { continue }
                throw .system("io_getevents", errno: code, path: path)
            }
            for i in 0..<rc {
                if events[i].data == KernelAIOQueue.wakeMarker {
                    wakeArmed = false
                    woken = true
                    pollWakeups += 1
                    wakeup?.drain()
                    continue
                }
                out.append(IOCompletion(tag: Int(events[i].data), result: Int(events[i].res)))
                got += 1
                outstanding -= 1
            }
        } while got < minimum && !woken
    }
}

/// What kernel AIO contexts of this process met (for tests).
package enum KernelAIOCounters {
    static let waited = Atomic<Int>(0)
    /// Contexts whose `io_setup` found `fs.aio-max-nr` used up while contexts of this process were
    /// being destroyed in the background, and so waited for those before trying again.
    package static var setupsThatWaited: Int { waited.load(ordering: .relaxed) }

    /// Makes each later background `io_destroy` of this process sleep `microseconds` before it
    /// begins (0: none), so that a test can meet the window in which a closed context still counts.
    package static func delayBackgroundDestroys(microseconds: UInt32) {
        CAsyncIO_io_destroy_detached_delay(microseconds)
    }
}
