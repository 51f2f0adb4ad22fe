import Glibc

/// The mutable state of one worker's scheduler: the lanes (slices) it runs, request slots and
/// the lists that move them. Counts are kept per lane and for the whole queue.
struct SchedulerState {
    /// What a run needs besides the state.
    struct Environment {
        let queue: IOQueue
        let blockSize: Int
        /// Requests per submit call at most: 1 with single submit; 2 to keep requests whole (see
        /// `RequestMerging`); else unlimited.
        let callLimit: Int
        let workerIndex: Int
    }

    struct Slot {
        var fd: Int32 = -1
        var direct = false
        var address: UnsafeMutableRawPointer?
        var remaining = 0
        var offset: Int64 = 0
        var started: UInt64 = 0
        /// The lane the request belongs to.
        var owner = 0
    }

    let depth: Int
    var lanes: [Lane] = []
    /// Every lane before this one has been reported (lanes are reported out of order at times).
    var firstLive = 0
    var slots: [Slot]
    var freeSlots: [Int]
    var pending: [Int] = []
    /// Buffered requests of a direct file, held back until no direct request is in flight.
    var deferred: [Int] = []
    var requests: [IORequest] = []
    var completions: [IOCompletion] = []
    /// Requests the kernel holds, over every lane.
    var inFlight = 0

    init(depth: Int) {
        self.depth = depth
        slots = Array(repeating: Slot(), count: depth)
        freeSlots = Array((0..<depth).reversed())
        pending.reserveCapacity(depth)
        deferred.reserveCapacity(depth)
        requests.reserveCapacity(depth)
        completions.reserveCapacity(depth * 2)
    }

    /// Fills free slots with lane `l`'s next requests: the block size, never above the kernel's
    /// per-call maximum, kept a multiple of the direct-I/O alignment; an unaligned tail goes as
    /// its own request on the ordinary descriptor (deferred, see `SliceRunner.run`).
    ///
    /// With the lane's `stripe` (a member's share of a striped set, see `WorkItem`) its file range is
    /// contiguous but its memory is not: a request never crosses the end of a stripe chunk, and its
    /// memory is the chunk's place in the buffer (`StripeLayout.bufferOffset`).
    mutating func refill(_ l: Int, _ env: Environment) {
        guard !lanes[l].isHandedOut, let slice = lanes[l].slice else { return }
        let stripe = lanes[l].stripe
        let file = slice.file
        let align = file.isDirect ? file.offsetAlignment : 1
        let memAlign = file.isDirect ? file.memoryAlignment : 1
        var chunk = min(env.blockSize, SliceRunner.maxRequestBytes)
        if align > 1 { chunk = max(align, chunk / align * align) }
        var next = lanes[l].next
        while !freeSlots.isEmpty && next < slice.length {
            let position = Int(slice.fileOffset) + next
            var length = min(chunk, slice.length - next)
            if let stripe { length = min(length, stripe.layout.stripeSize - position % stripe.layout.stripeSize) }
            if align > 1, length % align != 0, length > align {
                length = length / align * align
            }
            let slot = freeSlots.removeLast()
            let address = slice.memory
                + (stripe.map { $0.layout.bufferOffset(member: $0.member, position: position) } ?? next)
            let offset = Int64(position)
            let aligned = file.isDirect && Int(offset) % align == 0 && length % align == 0
                && Int(bitPattern: address) % memAlign == 0
            slots[slot] = Slot(fd: aligned ? file.directFD : file.bufferedFD, direct: aligned, address: address,
                               remaining: length, offset: offset, owner: l)
            if aligned || !file.isDirect {
                pending.append(slot)
            } else {
                deferred.append(slot)
            }
            lanes[l].waiting += 1
            next += length
        }
        lanes[l].next = next
    }

    /// Submits everything pending in calls of at most `callLimit` requests (one per request with
    /// single submit, else one call for the lot unless requests are kept whole); a partial submit
    /// queues the rest for the next call.
    mutating func flush(_ env: Environment) throws(AsyncIOError) {
        var stalls = 0
        while !pending.isEmpty {
            let batch = min(pending.count, env.callLimit)
            requests.removeAll(keepingCapacity: true)
            // One clock read per submit call: the requests of a batch leave together.
            let now = isTimed ? monotonicNanos() : 0
            for i in 0..<batch {
                let slot = pending[i]
                slots[slot].started = now
                let s = slots[slot]
                requests.append(IORequest(
                    operation: lanes[s.owner].slice!.operation, fd: s.fd, address: s.address!, length: s.remaining,
                    offset: s.offset, tag: slot))
            }
            let path = lanes[slots[pending[0]].owner].slice!.file.path
            let accepted = try requests.withUnsafeBufferPointer { buf throws(AsyncIOError) in
                try env.queue.submit(buf, path: path)
            }
            inFlight += accepted
            for slot in pending.prefix(accepted) {
                let owner = slots[slot].owner
                lanes[owner].inFlight += 1
                lanes[owner].waiting -= 1
                lanes[owner].submitted += 1
            }
            pending.removeFirst(accepted)
            if accepted < batch {
                // The kernel is busy: make room by reaping, then offer the rest again.
                if inFlight > 0 { return }
                stalls += 1
                if stalls > 10_000 {
                    throw .system("submit", errno: EAGAIN, path: path, hint: "the kernel accepted no request")
                }
                sched_yield()
            }
        }
    }

    /// Waits for at least one completion and checks every one: an error ends its lane (naming
    /// errno, operation, path and offset); a short transfer is continued from where it stopped.
    mutating func reapAndCheck(_ env: Environment, path: String) throws(AsyncIOError) {
        completions.removeAll(keepingCapacity: true)
        try env.queue.reap(minimum: inFlight > 0 ? 1 : 0, into: &completions, path: path)
        let now = isTimed ? monotonicNanos() : 0
        // Everything reaped has left the kernel.
        inFlight -= completions.count
        for i in completions.indices {
            let completion = completions[i]
            let slot = completion.tag
            var s = slots[slot]
            let l = s.owner
            lanes[l].inFlight -= 1
            if lanes[l].failure != nil {
                release(slot)
                continue
            }
            let slice = lanes[l].slice!
            if let error = SchedulerState.failure(of: completion.result, s, slice) {
                release(slot)
                fail(l, error)
                continue
            }
            let done = min(completion.result, s.remaining)
            s.remaining -= done
            if s.remaining == 0 {
                if let latency = lanes[l].latency { latency.record(env.workerIndex, now &- s.started) }
                release(slot)
                continue
            }
            // A short transfer: continue from where it stopped.
            s.address = s.address! + done
            s.offset += Int64(done)
            lanes[l].waiting += 1
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

    /// The error a completion's result means for its request, if any.
    static func failure(of result: Int, _ s: Slot, _ slice: Slice) -> AsyncIOError? {
        if result < 0 {
            let code = Int32(-result)
            let hint: String? = code == EINVAL && s.direct
                ? "the device refused this direct I/O request; check the block size and alignment "
                    + "(file system may not support direct I/O)"
                : nil
            return .system(slice.operation == .read ? "read" : "write", errno: code,
                           path: slice.file.path, offset: s.offset, hint: hint)
        }
        if result == 0 && s.remaining > 0 {
            if slice.operation == .read {
                return AsyncIOError(
                    .unexpectedEndOfFile, operation: "read", path: slice.file.path, offset: s.offset,
                    message: "the file ended before the requested bytes were read (file shorter than requested)")
            }
            return .system("write", errno: EIO, path: slice.file.path, offset: s.offset,
                           hint: "the kernel wrote 0 bytes")
        }
        return nil
    }

    /// Ends lane `l` with `error`: its requests not yet submitted are dropped; those in flight
    /// are reaped as they come back.
    mutating func fail(_ l: Int, _ error: AsyncIOError) {
        guard lanes[l].failure == nil else { return }
        lanes[l].failure = error
        for list in [pending, deferred] {
            for slot in list where slots[slot].owner == l { release(slot) }
        }
        pending.removeAll { slots[$0].address == nil }
        deferred.removeAll { slots[$0].address == nil }
        lanes[l].waiting = 0
    }

    /// Whether a lane still running keeps request latencies.
    var isTimed: Bool { lanes[firstLive...].contains { $0.latency != nil && !$0.reported } }

    /// Moves `firstLive` past reported lanes; drops them once many have gathered (the slots' owners
    /// are renumbered), so a worker that never runs dry does not keep a growing list.
    mutating func advance() {
        while firstLive < lanes.count && lanes[firstLive].reported { firstLive += 1 }
        guard firstLive >= 64 else { return }
        let gone = firstLive
        lanes.removeFirst(gone)
        for i in slots.indices where slots[i].address != nil { slots[i].owner -= gone }
        firstLive = 0
    }

    /// Ends every cancelled lane (`.cancelled`) and asks the queue to cancel its requests in flight.
    mutating func cancelLanes(_ queue: IOQueue) {
        for l in lanes.indices[firstLive...] where lanes[l].failure == nil && !lanes[l].reported {
            guard let slice = lanes[l].slice, let flag = slice.cancel, flag.isSet else { continue }
            fail(l, .cancelled(slice.operation == .read ? "read" : "write", path: slice.file.path))
            let tags = slots.indices.filter { slots[$0].address != nil && slots[$0].owner == l }
            if !tags.isEmpty { queue.cancel(tags: tags) }
        }
    }

    /// Frees a slot.
    private mutating func release(_ slot: Int) {
        slots[slot] = Slot()
        freeSlots.append(slot)
    }

    /// After a failure of the queue itself, drain what is still in flight so the queue can be
    /// reused, and make every slot free again.
    mutating func drain(_ queue: IOQueue) {
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
