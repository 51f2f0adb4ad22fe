import Glibc

/// One contiguous range of one operation, handed to one worker.
struct Slice {
    var operation: IOOperation
    var file: IOFile
    /// Start of this slice's memory.
    var memory: UnsafeMutableRawPointer
    var length: Int
    var fileOffset: Int64
    /// The operation this slice belongs to (numbered for the `sim` engine's per-operation noise).
    var operationID = 0
    /// Set when the operation is cancelled: submit nothing more, cancel what is in flight.
    var cancel: CancelFlag? = nil
}

/// Per-request timing, kept when the caller asks for latency figures.
public struct LatencySink: Sendable {
    /// Called on worker `worker`'s thread with each request's latency in nanoseconds (from
    /// submit to completion). Calls for one worker never overlap, so per-worker storage needs
    /// no lock.
    public var record: @Sendable (_ worker: Int, _ nanoseconds: UInt64) -> Void
    /// Creates a sink.
    public init(record: @escaping @Sendable (_ worker: Int, _ nanoseconds: UInt64) -> Void) { self.record = record }
}

/// Runs slices on one worker's queue with the handle's discipline.
///
/// - sequential (`overlap == false`): submit up to `queueDepth` requests, wait until every
///   one of them (and any continuation of a short transfer) completes, then the next batch;
/// - overlap: keep up to `queueDepth` requests in flight and top the queue up as soon as at
///   least one completes;
/// - single submit: one submit call per request; otherwise one call for all that is pending.
///
/// Every completion is checked: a negative result becomes an error naming errno, operation,
/// path and offset; a short transfer is continued from where it stopped (on the ordinary
/// descriptor when the rest is no longer aligned for direct I/O); a read that meets the end
/// of the file is an error, never a silent truncation.
///
/// Cancellation (`Slice.cancel`) is looked at before every submission: once it is set, nothing
/// more is submitted, the requests in flight are cancelled where the engine can (`IOQueue.cancel`),
/// every one of them is reaped (`SchedulerState.drain`), and only then the slice ends with a
/// `.cancelled` error, so the kernel never touches the slice's memory after `run` returns.
final class SliceRunner {
    /// The largest request the kernel moves in one call (Linux `MAX_RW_COUNT`).
    static let maxRequestBytes = 0x7fff_f000

    let queue: IOQueue
    let blockSize: Int
    let depth: Int
    let singleSubmit: Bool
    let overlap: Bool
    let workerIndex: Int
    /// Where the requests each slice submitted are counted (the handle's, shared by its workers).
    let requestCounter: RequestCounter?

    /// The scheduler's working state. It lives in a local variable while a slice runs (swapped
    /// out of `saved` and back), so the per-request code touches only local memory: no dynamic
    /// exclusivity checks and no copy-on-write checks on class properties in the hot loop.
    private var saved: SchedulerState

    init(queue: IOQueue, blockSize: Int, depth: Int, singleSubmit: Bool, overlap: Bool, workerIndex: Int = 0,
         requestCounter: RequestCounter? = nil) {
        self.workerIndex = workerIndex
        self.requestCounter = requestCounter
        self.queue = queue
        self.blockSize = blockSize
        // A queue may hold fewer requests than asked (an io_uring ring the kernel made smaller).
        self.depth = min(depth, queue.capacity)
        self.singleSubmit = singleSubmit
        self.overlap = overlap
        saved = SchedulerState(depth: self.depth)
    }

    /// Transfers the whole slice or throws the first failure.
    func run(_ slice: Slice, latency: LatencySink?) throws(AsyncIOError) {
        let file = slice.file
        queue.begin(slice)
        queue.prepare(
            memory: UnsafeMutableRawBufferPointer(start: slice.memory, count: slice.length),
            fds: [file.directFD, file.bufferedFD])
        var st = SchedulerState(depth: 0)
        swap(&st, &saved)
        defer {
            st.drain(queue)
            requestCounter?.add(st.submitted)
            st.submitted = 0
            swap(&st, &saved)
        }
        let context = SchedulerState.Context(
            slice: slice, queue: queue, blockSize: blockSize, singleSubmit: singleSubmit, latency: latency,
            workerIndex: workerIndex)
        // Requests that go through the page cache (an unaligned tail, or the rest of a short
        // direct transfer) never run beside direct ones: a buffered write reads, patches and later
        // writes back a whole page, which could bring back stale bytes over a direct write to the
        // same page in flight at that moment. They wait until no direct request is in flight.
        var bufferedPhase = false
        while st.next < slice.length || st.inFlight > 0 || !st.pending.isEmpty || !st.deferred.isEmpty {
            if let flag = slice.cancel, flag.isSet {
                // The deferred `drain` reaps whatever is still in flight before the error leaves.
                if st.inFlight > 0 { queue.cancel(tags: st.inFlightTags()) }
                throw .cancelled(slice.operation == .read ? "read" : "write", path: file.path)
            }
            if st.inFlight == 0 && st.pending.isEmpty && !st.deferred.isEmpty {
                swap(&st.pending, &st.deferred)
                bufferedPhase = true
            } else if !bufferedPhase && (overlap || (st.inFlight == 0 && st.pending.isEmpty)) {
                st.refill(context)
            }
            try st.flush(context)
            if st.inFlight == 0 && st.pending.isEmpty {
                bufferedPhase = false
                continue
            }
            try st.reapAndCheck(context)
        }
        st.next = 0
    }
}

/// The mutable state of one worker's scheduler: request slots and the lists that move them.
struct SchedulerState {
    /// What one slice run needs besides the state.
    struct Context {
        let slice: Slice
        let queue: IOQueue
        let blockSize: Int
        let singleSubmit: Bool
        let latency: LatencySink?
        let workerIndex: Int
    }

    struct Slot {
        var fd: Int32 = -1
        var direct = false
        var address: UnsafeMutableRawPointer?
        var remaining = 0
        var offset: Int64 = 0
        var started: UInt64 = 0
    }

    let depth: Int
    var slots: [Slot]
    var freeSlots: [Int]
    var pending: [Int] = []
    /// Buffered requests of a direct file, held back until no direct request is in flight.
    var deferred: [Int] = []
    var requests: [IORequest] = []
    var completions: [IOCompletion] = []
    var inFlight = 0
    /// Bytes of the current slice already handed out.
    var next = 0
    /// Requests of the current slice the queue has taken (continuations of short transfers too).
    var submitted = 0

    init(depth: Int) {
        self.depth = depth
        slots = Array(repeating: Slot(), count: depth)
        freeSlots = Array((0..<depth).reversed())
        pending.reserveCapacity(depth)
        deferred.reserveCapacity(depth)
        requests.reserveCapacity(depth)
        completions.reserveCapacity(depth * 2)
    }

    /// Fills free slots with the slice's next requests: the block size, never above the kernel's
    /// per-call maximum, kept a multiple of the direct-I/O alignment; an unaligned tail goes as
    /// its own request on the ordinary descriptor (deferred, see `SliceRunner.run`).
    mutating func refill(_ c: Context) {
        let file = c.slice.file
        let align = file.isDirect ? file.offsetAlignment : 1
        let memAlign = file.isDirect ? file.memoryAlignment : 1
        var chunk = min(c.blockSize, SliceRunner.maxRequestBytes)
        if align > 1 { chunk = max(align, chunk / align * align) }
        while !freeSlots.isEmpty && next < c.slice.length {
            var length = min(chunk, c.slice.length - next)
            if align > 1, length % align != 0, length > align {
                length = length / align * align
            }
            let slot = freeSlots.removeLast()
            let address = c.slice.memory + next
            let offset = c.slice.fileOffset + Int64(next)
            let aligned = file.isDirect && Int(offset) % align == 0 && length % align == 0
                && Int(bitPattern: address) % memAlign == 0
            slots[slot] = Slot(fd: aligned ? file.directFD : file.bufferedFD, direct: aligned, address: address,
                               remaining: length, offset: offset)
            if aligned || !file.isDirect {
                pending.append(slot)
            } else {
                deferred.append(slot)
            }
            next += length
        }
    }

    /// Submits everything pending: one call per request with single submit, else one call for
    /// the lot; a partial submit queues the rest for the next call.
    mutating func flush(_ c: Context) throws(AsyncIOError) {
        var stalls = 0
        while !pending.isEmpty {
            let batch = c.singleSubmit ? 1 : pending.count
            requests.removeAll(keepingCapacity: true)
            // One clock read per submit call: the requests of a batch leave together.
            let now = c.latency == nil ? 0 : monotonicNanos()
            for i in 0..<batch {
                let slot = pending[i]
                slots[slot].started = now
                let s = slots[slot]
                requests.append(IORequest(
                    operation: c.slice.operation, fd: s.fd, address: s.address!, length: s.remaining,
                    offset: s.offset, tag: slot))
            }
            let accepted = try requests.withUnsafeBufferPointer { buf throws(AsyncIOError) in
                try c.queue.submit(buf, path: c.slice.file.path)
            }
            inFlight += accepted
            submitted += accepted
            pending.removeFirst(accepted)
            if accepted < batch {
                // The kernel is busy: make room by reaping, then offer the rest again.
                if inFlight > 0 { return }
                stalls += 1
                if stalls > 10_000 {
                    throw .system("submit", errno: EAGAIN, path: c.slice.file.path,
                                  hint: "the kernel accepted no request")
                }
                sched_yield()
            }
        }
    }

    /// Waits for at least one completion and checks every one: errors name errno, operation,
    /// path and offset; a short transfer is continued from where it stopped.
    mutating func reapAndCheck(_ c: Context) throws(AsyncIOError) {
        completions.removeAll(keepingCapacity: true)
        try c.queue.reap(minimum: inFlight > 0 ? 1 : 0, into: &completions, path: c.slice.file.path)
        let now = c.latency == nil ? 0 : monotonicNanos()
        // Everything reaped has left the kernel, even if a failure below stops the loop.
        inFlight -= completions.count
        let slice = c.slice
        for i in completions.indices {
            let completion = completions[i]
            let slot = completion.tag
            var s = slots[slot]
            if completion.result < 0 {
                let code = Int32(-completion.result)
                let hint: String? = code == EINVAL && s.direct
                    ? "the device refused this direct I/O request; check the block size and alignment "
                        + "(file system may not support direct I/O)"
                    : nil
                throw .system(slice.operation == .read ? "read" : "write", errno: code,
                              path: slice.file.path, offset: s.offset, hint: hint)
            }
            if completion.result == 0 && s.remaining > 0 {
                if slice.operation == .read {
                    throw AsyncIOError(
                        .unexpectedEndOfFile, operation: "read", path: slice.file.path, offset: s.offset,
                        message: "the file ended before the requested bytes were read (file shorter than requested)")
                }
                throw .system("write", errno: EIO, path: slice.file.path, offset: s.offset,
                              hint: "the kernel wrote 0 bytes")
            }
            let done = min(completion.result, s.remaining)
            s.remaining -= done
            if s.remaining == 0 {
                if let latency = c.latency { latency.record(c.workerIndex, now &- s.started) }
                slots[slot] = Slot()
                freeSlots.append(slot)
                continue
            }
            // A short transfer: continue from where it stopped.
            s.address = s.address! + done
            s.offset += Int64(done)
            if s.direct {
                let align = slice.file.offsetAlignment
                if Int(s.offset) % align != 0 || s.remaining % align != 0 {
                    s.fd = slice.file.bufferedFD
                    s.direct = false
                    slots[slot] = s
                    deferred.append(slot)
                    continue
                }
            }
            slots[slot] = s
            pending.append(slot)
        }
    }

    /// The tags (slot numbers) of the requests the kernel holds now: slots in use that are neither
    /// pending nor deferred.
    func inFlightTags() -> [Int] {
        var waiting = Set(pending)
        waiting.formUnion(deferred)
        return slots.indices.filter { slots[$0].address != nil && !waiting.contains($0) }
    }

    /// After a slice (or a failure in one), drain what is still in flight so the queue can be
    /// reused, and make every slot free again.
    mutating func drain(_ queue: IOQueue) {
        next = 0
        if inFlight == 0 && pending.isEmpty && deferred.isEmpty && freeSlots.count == depth { return }
        if inFlight > 0 {
            var sink: [IOCompletion] = []
            while inFlight > 0 {
                sink.removeAll(keepingCapacity: true)
                guard (try? queue.reap(minimum: 1, into: &sink, path: "")) != nil else { break }
                inFlight -= sink.count
            }
        }
        inFlight = 0
        pending.removeAll(keepingCapacity: true)
        deferred.removeAll(keepingCapacity: true)
        slots = Array(repeating: Slot(), count: depth)
        freeSlots = Array((0..<depth).reversed())
    }
}

/// Nanoseconds on the monotonic clock.
@inline(__always)
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
