import Glibc

/// One contiguous range of one operation, handed to one worker.
struct Slice {
    var operation: IOOperation
    var file: IOFile
    /// Start of this slice's memory.
    var memory: UnsafeMutableRawPointer
    var length: Int
    var fileOffset: Int64
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
final class SliceRunner {
    /// The largest request the kernel moves in one call (Linux `MAX_RW_COUNT`).
    static let maxRequestBytes = 0x7fff_f000

    let queue: IOQueue
    let blockSize: Int
    let depth: Int
    let singleSubmit: Bool
    let overlap: Bool
    let workerIndex: Int

    private struct SlotState {
        var fd: Int32 = -1
        var direct = false
        var address: UnsafeMutableRawPointer?
        var remaining = 0
        var offset: Int64 = 0
        var started: UInt64 = 0
    }

    private var slots: [SlotState]
    private var freeSlots: [Int]
    private var pending: [Int] = []
    /// Buffered requests of a direct file, held back until no direct request is in flight.
    private var deferred: [Int] = []
    private var requests: [IORequest] = []
    private var completions: [IOCompletion] = []
    private var inFlight = 0

    init(queue: IOQueue, blockSize: Int, depth: Int, singleSubmit: Bool, overlap: Bool, workerIndex: Int = 0) {
        self.workerIndex = workerIndex
        self.queue = queue
        self.blockSize = blockSize
        // A queue may hold fewer requests than asked (an io_uring ring the kernel made smaller).
        self.depth = min(depth, queue.capacity)
        self.singleSubmit = singleSubmit
        self.overlap = overlap
        slots = Array(repeating: SlotState(), count: self.depth)
        freeSlots = Array((0..<self.depth).reversed())
        pending.reserveCapacity(self.depth)
        requests.reserveCapacity(depth)
        completions.reserveCapacity(depth * 2)
    }

    /// Transfers the whole slice or throws the first failure.
    func run(_ slice: Slice, latency: LatencySink?) throws(AsyncIOError) {
        let file = slice.file
        let align = file.isDirect ? file.offsetAlignment : 1
        let memAlign = file.isDirect ? file.memoryAlignment : 1
        queue.prepare(
            memory: UnsafeMutableRawBufferPointer(start: slice.memory, count: slice.length),
            fds: [file.directFD, file.bufferedFD])
        // Request size: the block size, never above the kernel's per-call maximum, and kept
        // a multiple of the direct-I/O alignment.
        var chunk = min(blockSize, SliceRunner.maxRequestBytes)
        if align > 1 { chunk = max(align, chunk / align * align) }
        var next = 0  // bytes of the slice already handed out
        defer { resetAfterFailure() }

        func issue(_ position: Int, _ length: Int) {
            let slot = freeSlots.removeLast()
            let address = slice.memory + position
            let offset = slice.fileOffset + Int64(position)
            let aligned = file.isDirect && Int(offset) % align == 0 && length % align == 0
                && Int(bitPattern: address) % memAlign == 0
            slots[slot] = SlotState(
                fd: aligned ? file.directFD : file.bufferedFD, direct: aligned, address: address,
                remaining: length, offset: offset, started: latency == nil ? 0 : monotonicNanos())
            if aligned || !file.isDirect {
                pending.append(slot)
            } else {
                deferred.append(slot)
            }
        }

        func refill() {
            while !freeSlots.isEmpty && next < slice.length {
                var length = min(chunk, slice.length - next)
                // An unaligned tail goes as its own request on the ordinary descriptor.
                if align > 1, length % align != 0, length > align {
                    length = length / align * align
                }
                issue(next, length)
                next += length
            }
        }

        // Requests that go through the page cache (an unaligned tail, or the rest of a short
        // direct transfer) never run beside direct ones: a buffered write reads, patches and later
        // writes back a whole page, which could bring back stale bytes over a direct write to the
        // same page in flight at that moment. They wait until no direct request is in flight.
        var bufferedPhase = false
        while next < slice.length || inFlight > 0 || !pending.isEmpty || !deferred.isEmpty {
            if inFlight == 0 && pending.isEmpty && !deferred.isEmpty {
                pending = deferred
                deferred.removeAll(keepingCapacity: true)
                bufferedPhase = true
            } else if !bufferedPhase && (overlap || (inFlight == 0 && pending.isEmpty)) {
                refill()
            }
            try flush(slice)
            if inFlight == 0 && pending.isEmpty {
                bufferedPhase = false
                continue
            }
            try reapAndCheck(slice, latency: latency)
        }
    }

    /// Submits everything pending: one call per request with single submit, else one call for
    /// the lot; a partial submit queues the rest for the next call.
    private func flush(_ slice: Slice) throws(AsyncIOError) {
        var stalls = 0
        while !pending.isEmpty {
            let batch = singleSubmit ? 1 : pending.count
            requests.removeAll(keepingCapacity: true)
            for i in 0..<batch {
                let slot = pending[i]
                let s = slots[slot]
                requests.append(IORequest(
                    operation: slice.operation, fd: s.fd, address: s.address!, length: s.remaining,
                    offset: s.offset, tag: slot))
            }
            let accepted = try requests.withUnsafeBufferPointer { buf throws(AsyncIOError) in
                try queue.submit(buf, path: slice.file.path)
            }
            inFlight += accepted
            pending.removeFirst(accepted)
            if accepted < batch {
                // The kernel is busy: make room by reaping, then offer the rest again.
                if inFlight > 0 { return }
                stalls += 1
                if stalls > 10_000 {
                    throw .system("submit", errno: EAGAIN, path: slice.file.path, hint: "the kernel accepted no request")
                }
                sched_yield()
            }
        }
    }

    private func reapAndCheck(_ slice: Slice, latency: LatencySink?) throws(AsyncIOError) {
        completions.removeAll(keepingCapacity: true)
        try queue.reap(minimum: inFlight > 0 ? 1 : 0, into: &completions, path: slice.file.path)
        let now = latency == nil ? 0 : monotonicNanos()
        // Everything reaped has left the kernel, even if a failure below stops the loop.
        inFlight -= completions.count
        for c in completions {
            let slot = c.tag
            var s = slots[slot]
            if c.result < 0 {
                let code = Int32(-c.result)
                let hint: String? = code == EINVAL && s.direct
                    ? "the device refused this direct I/O request; check the block size and alignment "
                        + "(file system may not support direct I/O)"
                    : nil
                throw .system(slice.operation == .read ? "read" : "write", errno: code,
                              path: slice.file.path, offset: s.offset, hint: hint)
            }
            if c.result == 0 && s.remaining > 0 {
                if slice.operation == .read {
                    throw AsyncIOError(
                        .unexpectedEndOfFile, operation: "read", path: slice.file.path, offset: s.offset,
                        message: "the file ended before the requested bytes were read (file shorter than requested)")
                }
                throw .system("write", errno: EIO, path: slice.file.path, offset: s.offset,
                              hint: "the kernel wrote 0 bytes")
            }
            let done = min(c.result, s.remaining)
            s.remaining -= done
            if s.remaining == 0 {
                if let latency { latency.record(workerIndex, now &- s.started) }
                slots[slot] = SlotState()
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

    /// After a failure, drain what is still in flight so the queue can be reused.
    private func resetAfterFailure() {
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
        slots = Array(repeating: SlotState(), count: depth)
        freeSlots = Array((0..<depth).reversed())
    }
}

/// Nanoseconds on the monotonic clock.
@inline(__always)
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
