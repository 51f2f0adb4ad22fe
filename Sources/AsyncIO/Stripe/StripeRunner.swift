/// One worker's share of one member of a striped operation: a contiguous range of the member's file,
/// whose bytes lie in the buffer one stripe chunk at a time.
struct StripeJob {
    /// The member file's range (`fileOffset`, `length`); `memory` is the start of the whole buffer.
    var slice: Slice
    /// Bytes of the buffer from `slice.memory` (the memory requests may touch).
    var bufferBytes: Int
    /// Which member the file is.
    var member: Int
    /// The set's geometry, which maps a member's file offset to its place in the buffer.
    var layout: StripeLayout
    /// Per-request timing, if asked for.
    var latency: LatencySink?
    /// The operation to report to.
    var ticket: StripeTicket
}

/// Runs striped jobs on one worker's queue with the handle's discipline.
///
/// The scheduling is the one of `SliceRunner` (queue depth, overlap or sequential batches, single or
/// batch submit, checked completions, short transfers continued, an unaligned tail through the page
/// cache after the direct requests): it uses the same `SchedulerState`, filling its slots with
/// `refill(_:_:stripe:)`, which cuts requests at stripe-chunk boundaries because a member's
/// file range is contiguous but its memory is not. So one worker keeps `queueDepth` requests in
/// flight across chunks, whatever the stripe size.
final class StripeMemberRunner {
    let queue: IOQueue
    let blockSize: Int
    let depth: Int
    /// Requests per submit call at most (see `RequestMerging`).
    let callLimit: Int
    let overlap: Bool
    let workerIndex: Int
    let requestCounter: RequestCounter
    /// The scheduler's state between jobs (swapped into a local while a job runs, as `SliceRunner` does).
    private var saved: SchedulerState

    init(queue: IOQueue, config: HandleConfig, workerIndex: Int, requestCounter: RequestCounter) {
        self.queue = queue
        blockSize = config.blockSize
        depth = min(config.queueDepth, queue.capacity)
        callLimit = RequestMerging.callLimit(config.engineOptions.requestMerging, capabilities: queue.capabilities,
                                             blockSize: config.blockSize, singleSubmit: config.singleSubmit)
        overlap = config.overlapEvents
        self.workerIndex = workerIndex
        self.requestCounter = requestCounter
        saved = SchedulerState(depth: depth)
    }

    /// Transfers the job's whole range or throws the first failure.
    func run(_ job: StripeJob) throws(AsyncIOError) {
        let slice = job.slice
        queue.begin(slice)
        queue.prepare(memory: UnsafeMutableRawBufferPointer(start: slice.memory, count: job.bufferBytes), region: nil,
                      fds: [slice.file.directFD, slice.file.bufferedFD])
        var st = SchedulerState(depth: 0)
        swap(&st, &saved)
        // One lane: the job. A failed request ends the lane (its other requests are reaped first).
        st.lanes.removeAll(keepingCapacity: true)
        st.firstLive = 0
        st.lanes.append(Lane(slice: slice, op: nil, latency: job.latency))
        defer {
            st.drain(queue)
            requestCounter.add(st.lanes.first?.submitted ?? 0)
            st.lanes.removeAll(keepingCapacity: true)
            swap(&st, &saved)
        }
        let env = SchedulerState.Environment(queue: queue, blockSize: blockSize, callLimit: callLimit,
                                             workerIndex: workerIndex)
        // Requests through the page cache wait until no direct request is in flight (see SliceRunner.run).
        var bufferedPhase = false
        while !st.lanes[0].isDone {
            if job.ticket.cancelFlag.isSet, st.lanes[0].failure == nil {
                // Submit nothing more; cancel what is in flight and reap it before the job ends.
                st.fail(0, .cancelled(slice.operation == .read ? "read" : "write", path: slice.file.path))
                let tags = st.slots.indices.filter { st.slots[$0].address != nil }
                if !tags.isEmpty { queue.cancel(tags: tags) }
                continue
            }
            if st.inFlight == 0 && st.pending.isEmpty && !st.deferred.isEmpty {
                swap(&st.pending, &st.deferred)
                bufferedPhase = true
            } else if !bufferedPhase && (overlap || (st.inFlight == 0 && st.pending.isEmpty)) {
                st.refill(0, env, stripe: (job.layout, job.member))
            }
            try st.flush(env)
            if st.inFlight == 0 && st.pending.isEmpty {
                bufferedPhase = false
                continue
            }
            try st.reapAndCheck(env, path: slice.file.path)
        }
        if let failure = st.lanes[0].failure { throw failure }
    }
}
