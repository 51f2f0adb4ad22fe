import CAsyncIO
import Glibc

/// io_uring through raw `io_uring_setup` / `io_uring_enter` / `io_uring_register` (no liburing).
///
/// One ring per worker. The submission ring, completion ring and SQE array are mmap'd once and
/// unmapped on every path out; ring indices shared with the kernel are read with acquire and
/// published with release (C helpers, never plain loads). Buffers and the two descriptors of
/// the current file are registered when the kernel and memlock limit allow, and requests then
/// use `READ_FIXED` / `WRITE_FIXED` and fixed files; when registration fails the ring falls
/// back to plain `READ` / `WRITE` and `pathDescription` says so.
final class URingQueue: IOQueue {
    let kind = EngineKind.uring
    let capacity: Int

    let ringFD: Int32
    private let sqEntries: UInt32
    private let sqMask: UInt32
    private let cqMask: UInt32
    private let sqHead: UnsafeMutablePointer<UInt32>
    private let sqTail: UnsafeMutablePointer<UInt32>
    private let sqFlags: UnsafeMutablePointer<UInt32>
    private let cqHead: UnsafeMutablePointer<UInt32>
    private let cqTail: UnsafeMutablePointer<UInt32>
    private let sqes: UnsafeMutablePointer<io_uring_sqe>
    private let cqes: UnsafeMutablePointer<io_uring_cqe>
    private let mappings: [(UnsafeMutableRawPointer, Int)]
    private let sqpoll: Bool
    var capabilities: QueueCapabilities {
        sqpoll ? [.keepsRequestsInFlight, .overlapsOperations, .movesData]
            : [.keepsRequestsInFlight, .overlapsOperations, .mergesBatches, .movesData]
    }
    let options: URingOptions
    private let cqEntries: Int
    private let requestedDepth: Int
    /// Wakes the worker out of a wait for completions when new work is queued (see `QueueWakeup`);
    /// nil with SQPOLL, or when the completion ring has no room beside the queue depth.
    let wakeup: QueueWakeup?
    /// Whether the wake-up's poll is in the ring (it is one-shot: re-armed before each wait).
    private var wakeArmed = false
    /// Whether the wake-up's poll fired since the last `reap` returned.
    private var woken = false

    /// SQEs written to the ring that the kernel has not consumed yet.
    private var unsubmitted: UInt32 = 0
    /// Local copy of the SQ tail (only this thread writes it).
    private var localTail: UInt32

    /// Memory regions kept registered at once: a slice's memory, or the whole allocation it is a part
    /// of (see `prepare`).
    static let maxRegions = 4

    // Registration state (see URingRegistration.swift).
    var registeredBuffers: [(start: UInt, end: UInt)] = []
    /// The memory ranges `prepare` registered (each split into `registeredBuffers` pieces).
    var registeredRegions: [(start: UInt, end: UInt)] = []
    /// `AlignedBuffer.freedCount` when the buffers were registered: a range is reused only while
    /// no buffer has been freed since, or a new buffer at a freed one's address would be read
    /// from and written to through the old, still pinned pages.
    var registeredAtFreedCount: UInt64 = 0
    /// A whole allocation the kernel refused to register (see `prepare`), and `AlignedBuffer.freedCount`
    /// then: its parts are registered alone, without trying the whole again, until a buffer is freed.
    var refusedWhole: (start: UInt, end: UInt, freedCount: UInt64)?
    var buffersRegistered = false
    var bufferRegistrationFailed: String?
    var filesRegistered = false
    var fileRegistrationFailed: String?
    var fixedFDs: (Int32, Int32) = (-1, -1)

    var pathDescription: String {
        var parts: [String] = []
        if !options.registerResources {
            parts.append("plain READ/WRITE (registration off)")
        } else if buffersRegistered {
            parts.append("registered buffers (READ_FIXED/WRITE_FIXED)")
        } else if let why = bufferRegistrationFailed {
            parts.append("plain READ/WRITE (buffer registration failed: \(why))")
        } else {
            parts.append("plain READ/WRITE")
        }
        if filesRegistered {
            parts.append("registered files")
        } else if let why = fileRegistrationFailed {
            parts.append("unregistered files (registration failed: \(why))")
        }
        if sqpoll { parts.append("SQPOLL") }
        if capacity < requestedDepth {
            parts.append("ring of \(sqEntries) entries: in flight capped at \(capacity) of queue depth \(requestedDepth)")
        }
        return "io_uring: " + parts.joined(separator: ", ")
    }

    init(depth: Int, options: URingOptions) throws(AsyncIOError) {
        self.options = options
        // The ring needs a power of two entries; the kernel caps it at 32768.
        var entries: UInt32 = 1
        while entries < UInt32(min(options.ringEntries ?? depth, depth, 32768)) { entries <<= 1 }
        var params = io_uring_params()
        if options.sqpoll {
            params.flags = UInt32(IORING_SETUP_SQPOLL)
            params.sq_thread_idle = 2000
        }
        var fd = CAsyncIO_io_uring_setup(entries, &params)
        if fd < 0, options.sqpoll, currentErrno() == EINVAL || currentErrno() == EPERM {
            // Drop the optional flag and try again, as fio does.
            params = io_uring_params()
            fd = CAsyncIO_io_uring_setup(entries, &params)
        }
        if fd < 0 {
            let code = currentErrno()
            let hint: String? = switch code {
            case ENOSYS: "this kernel has no io_uring"
            case EPERM: "io_uring is disabled for this process (sysctl kernel.io_uring_disabled or seccomp)"
            case ENOMEM: "not enough locked memory for the ring (ulimit -l)"
            default: nil
            }
            throw .system("io_uring_setup(\(entries))", errno: code, hint: hint)
        }
        ringFD = fd
        sqpoll = params.flags & UInt32(IORING_SETUP_SQPOLL) != 0

        let sqSize = Int(params.sq_off.array) + Int(params.sq_entries) * MemoryLayout<UInt32>.size
        let cqSize = Int(params.cq_off.cqes) + Int(params.cq_entries) * MemoryLayout<io_uring_cqe>.size
        let single = params.features & UInt32(IORING_FEAT_SINGLE_MMAP) != 0
        var maps: [(UnsafeMutableRawPointer, Int)] = []
        func unmapAll() {
            for (p, n) in maps { munmap(p, n) }
            close(fd)
        }
        func map(_ size: Int, _ offset: Int64) -> UnsafeMutableRawPointer? {
            let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, off_t(offset))
            if p == UnsafeMutableRawPointer(bitPattern: -1) || p == nil { return nil }
            maps.append((p!, size))
            return p
        }
        guard let sqRing = map(single ? max(sqSize, cqSize) : sqSize, Int64(IORING_OFF_SQ_RING)) else {
            let code = currentErrno()
            unmapAll()
            throw .system("mmap io_uring SQ ring", errno: code)
        }
        let cqRing: UnsafeMutableRawPointer
        if single {
            cqRing = sqRing
        } else if let p = map(cqSize, Int64(IORING_OFF_CQ_RING)) {
            cqRing = p
        } else {
            let code = currentErrno()
            unmapAll()
            throw .system("mmap io_uring CQ ring", errno: code)
        }
        let sqeSize = Int(params.sq_entries) * MemoryLayout<io_uring_sqe>.size
        guard let sqeMem = map(sqeSize, Int64(IORING_OFF_SQES)) else {
            let code = currentErrno()
            unmapAll()
            throw .system("mmap io_uring SQEs", errno: code)
        }
        mappings = maps

        func u32(_ base: UnsafeMutableRawPointer, _ offset: UInt32) -> UnsafeMutablePointer<UInt32> {
            (base + Int(offset)).assumingMemoryBound(to: UInt32.self)
        }
        sqHead = u32(sqRing, params.sq_off.head)
        sqTail = u32(sqRing, params.sq_off.tail)
        sqFlags = u32(sqRing, params.sq_off.flags)
        sqMask = u32(sqRing, params.sq_off.ring_mask).pointee
        sqEntries = params.sq_entries
        let array = u32(sqRing, params.sq_off.array)
        // Identity map: SQE i sits in array slot i, so the slot is the tail masked.
        for i in 0..<params.sq_entries { array[Int(i)] = i }
        cqHead = u32(cqRing, params.cq_off.head)
        cqTail = u32(cqRing, params.cq_off.tail)
        cqMask = u32(cqRing, params.cq_off.ring_mask).pointee
        cqes = (cqRing + Int(params.cq_off.cqes)).assumingMemoryBound(to: io_uring_cqe.self)
        sqes = sqeMem.assumingMemoryBound(to: io_uring_sqe.self)
        localTail = CAsyncIO_load_relaxed(sqTail)
        // Never more in flight than the completion ring holds (it is 2x the SQ ring, so this only
        // bites when the ring is smaller than the queue depth).
        capacity = min(depth, Int(params.cq_entries))
        cqEntries = Int(params.cq_entries)
        requestedDepth = depth
        wakeup = sqpoll || capacity >= cqEntries ? nil : QueueWakeup()

        if options.registerResources && options.registerFiles {
            registerFileTable()
        }
        if options.simulateRegistrationFailure {
            bufferRegistrationFailed = "simulated failure"
        }
    }

    deinit {
        if buffersRegistered {
            _ = CAsyncIO_io_uring_register(ringFD, UInt32(IORING_UNREGISTER_BUFFERS), nil, 0)
        }
        for (p, n) in mappings { munmap(p, n) }
        close(ringFD)
    }

    // MARK: submission

    func submit(_ requests: UnsafeBufferPointer<IORequest>, path: String) throws(AsyncIOError) -> Int {
        var space = Int(sqEntries &- (localTail &- CAsyncIO_load_acquire(sqHead)))
        if space < requests.count && unsubmitted > 0 {
            // Entries left from an earlier call (a cancel, the wake-up's poll): hand them over first.
            try enter(minComplete: 0, path: path)
            space = Int(sqEntries &- (localTail &- CAsyncIO_load_acquire(sqHead)))
        }
        let n = min(requests.count, space)
        for i in 0..<n {
            let r = requests[i]
            let sqe = sqes + Int(localTail & sqMask)
            var opcode = UInt8(r.operation == .read ? IORING_OP_READ.rawValue : IORING_OP_WRITE.rawValue)
            var bufIndex: UInt16 = 0
            if buffersRegistered {
                let addr = UInt(bitPattern: r.address)
                if let k = registeredBuffers.firstIndex(where: { addr >= $0.start && addr + UInt(r.length) <= $0.end }) {
                    opcode = UInt8(r.operation == .read
                        ? IORING_OP_READ_FIXED.rawValue : IORING_OP_WRITE_FIXED.rawValue)
                    bufIndex = UInt16(k)
                }
            }
            var fd = r.fd
            var flags: UInt8 = 0
            if filesRegistered {
                if r.fd == fixedFDs.0 {
                    fd = 0
                    flags = UInt8(1 << IOSQE_FIXED_FILE_BIT)
                } else if r.fd == fixedFDs.1 {
                    fd = 1
                    flags = UInt8(1 << IOSQE_FIXED_FILE_BIT)
                }
            }
            CAsyncIO_sqe_prep_rw(sqe, opcode, fd, r.address, UInt32(r.length), UInt64(r.offset),
                                 UInt64(r.tag), bufIndex, flags)
            localTail &+= 1
        }
        if n == 0 { return 0 }
        CAsyncIO_store_release(sqTail, localTail)
        unsubmitted &+= UInt32(n)
        try enter(minComplete: 0, path: path)
        return n
    }

    /// Tells the kernel about unsubmitted SQEs and optionally waits for completions.
    private func enter(minComplete: UInt32, path: String) throws(AsyncIOError) {
        if sqpoll {
            // The kernel thread consumes SQEs itself; wake it if it went to sleep.
            CAsyncIO_fence_seq_cst()
            var flags: UInt32 = 0
            if CAsyncIO_load_relaxed(sqFlags) & UInt32(IORING_SQ_NEED_WAKEUP) != 0 {
                flags |= UInt32(IORING_ENTER_SQ_WAKEUP)
            }
            if minComplete > 0 { flags |= UInt32(IORING_ENTER_GETEVENTS) }
            unsubmitted = 0
            if flags == 0 { return }
            while CAsyncIO_io_uring_enter(ringFD, 0, minComplete, flags) < 0 {
                let code = currentErrno()
                if code == EINTR || code == EAGAIN || code == EBUSY { if minComplete == 0 { return }; continue }
                throw .system("io_uring_enter", errno: code, path: path)
            }
            return
        }
        if unsubmitted == 0 && minComplete == 0 { return }
        let flags: UInt32 = minComplete > 0 ? UInt32(IORING_ENTER_GETEVENTS) : 0
        while true {
            let rc = CAsyncIO_io_uring_enter(ringFD, unsubmitted, minComplete, flags)
            if rc >= 0 {
                // The kernel may consume fewer SQEs than offered; the rest stay in the ring
                // and are offered again on the next call.
                unsubmitted &-= min(UInt32(rc), unsubmitted)
                return
            }
            let code = currentErrno()
            switch code {
            case EINTR:
                continue
            case EAGAIN, EBUSY:
                // Out of resources or completions pending in overflow: the caller reaps and
                // comes back; do not spin here.
                return
            default:
                throw .system("io_uring_enter", errno: code, path: path)
            }
        }
    }

    // MARK: cancellation

    /// The user_data of `IORING_OP_ASYNC_CANCEL` entries: never a slot number, so their own
    /// completions are told apart from those of requests and dropped in `harvest`.
    private static let cancelMarker = UInt64.max
    /// The user_data of the wake-up's poll, also never a slot number.
    private static let wakeMarker = UInt64.max - 1

    /// Puts the wake-up's one-shot poll in the submission ring (the next enter submits it).
    private func armWakeup() {
        guard let wakeup, !wakeArmed else { return }
        let head = CAsyncIO_load_acquire(sqHead)
        guard sqEntries &- (localTail &- head) > 0 else { return }
        CAsyncIO_sqe_prep_poll(sqes + Int(localTail & sqMask), wakeup.fd, UInt32(POLLIN), URingQueue.wakeMarker)
        localTail &+= 1
        CAsyncIO_store_release(sqTail, localTail)
        unsubmitted &+= 1
        wakeArmed = true
    }

    /// Queues one `IORING_OP_ASYNC_CANCEL` per tag (as many as the submission ring has room for)
    /// and submits them. The kernel completes each cancelled request with `-ECANCELED`; one
    /// already running on the device completes normally. Either way it comes back through `reap`.
    func cancel(tags: [Int]) {
        let head = CAsyncIO_load_acquire(sqHead)
        let space = Int(sqEntries &- (localTail &- head))
        let n = min(tags.count, space)
        guard n > 0 else { return }
        for tag in tags.prefix(n) {
            CAsyncIO_sqe_prep_cancel(sqes + Int(localTail & sqMask), UInt64(tag), URingQueue.cancelMarker)
            localTail &+= 1
        }
        CAsyncIO_store_release(sqTail, localTail)
        unsubmitted &+= UInt32(n)
        // Best effort: a failed enter leaves the entries for the next call, and the requests
        // complete anyway.
        try? enter(minComplete: 0, path: "")
    }

    // MARK: completion

    private func harvest(into out: inout [IOCompletion]) -> Int {
        var head = CAsyncIO_load_relaxed(cqHead)
        let tail = CAsyncIO_load_acquire(cqTail)
        var n = 0
        while head != tail {
            let cqe = cqes[Int(head & cqMask)]
            head &+= 1
            if cqe.user_data == URingQueue.cancelMarker { continue }
            if cqe.user_data == URingQueue.wakeMarker {
                wakeArmed = false
                woken = true
                wakeup?.drain()
                continue
            }
            out.append(IOCompletion(tag: Int(cqe.user_data), result: Int(cqe.res)))
            n += 1
        }
        if head != CAsyncIO_load_relaxed(cqHead) { CAsyncIO_store_release(cqHead, head) }
        return n
    }

    /// Waits for `minimum` completions, or less when the wake-up fires (new work was queued for
    /// this worker: the caller goes and takes it, then waits again).
    func reap(minimum: Int, into out: inout [IOCompletion], path: String) throws(AsyncIOError) {
        var got = harvest(into: &out)
        var spins = 0
        defer { woken = false }
        while got < minimum && !woken {
            if let wakeup {
                // Armed only when about to block, so no poll entry is left unsubmitted in the ring.
                guard wakeup.willWait() else { break }
                armWakeup()
            }
            do {
                try enter(minComplete: UInt32(minimum - got), path: path)
            } catch {
                wakeup?.didWait()
                throw error
            }
            wakeup?.didWait()
            let n = harvest(into: &out)
            got += n
            if n == 0 {
                spins += 1
                if spins > 1_000_000 {
                    throw .system("io_uring_enter", errno: EBUSY, path: path, hint: "no completion arrived")
                }
            }
        }
    }
}
