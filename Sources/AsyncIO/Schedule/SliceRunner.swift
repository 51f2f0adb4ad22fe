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
    package var record: @Sendable (_ worker: Int, _ nanoseconds: UInt64) -> Void
    /// Creates a sink.
    public init(record: @escaping @Sendable (_ worker: Int, _ nanoseconds: UInt64) -> Void) { self.record = record }
}

/// One slice being run by a `SliceRunner`, with the operation to report it to.
struct Lane {
    /// The slice; dropped (and with it the file) before the lane is reported done.
    var slice: Slice?
    /// Whom to report to (dropped with the slice).
    var owner: WorkItem.Owner?
    /// A striped share's mapping of file positions to memory (see `WorkItem.stripe`).
    var stripe: (layout: StripeLayout, member: Int)?
    var latency: LatencySink?
    /// Bytes of the slice already handed out as requests.
    var next = 0
    /// Requests of this lane the kernel holds.
    var inFlight = 0
    /// Requests of this lane waiting to be submitted (pending or deferred).
    var waiting = 0
    /// Requests of this lane the queue has taken (continuations of short transfers too).
    var submitted = 0
    /// The first error; the lane then submits nothing more and ends once its requests are back.
    var failure: AsyncIOError?
    var reported = false

    /// Whether every byte was handed out as a request, or the lane stopped for an error.
    var isHandedOut: Bool { failure != nil || next >= (slice?.length ?? 0) }
    /// Whether the kernel is done with every request of the lane.
    var isDone: Bool { isHandedOut && inFlight == 0 && waiting == 0 }
}

/// Runs slices on one worker's queue with the handle's discipline.
///
/// - sequential (`overlap == false`): submit up to `queueDepth` requests, wait until every
///   one of them (and any continuation of a short transfer) completes, then the next batch;
/// - overlap: keep up to `queueDepth` requests in flight and top the queue up as soon as at
///   least one completes. On engines whose requests stay in flight (io_uring, kernel AIO), the
///   worker's next slice starts as soon as every request of the current one has been handed out,
///   so the queue stays full across operations (a stream's bounce buffers, many `asyncPRead`s);
///   each operation is still reported when the kernel is done with its own requests;
/// - single submit: one submit call per request; otherwise one call for all that is pending, or
///   calls of at most 2 requests where requests are kept whole (`RequestMerging`).
///
/// Every completion is checked: a negative result becomes an error naming errno, operation,
/// path and offset; a short transfer is continued from where it stopped (on the ordinary
/// descriptor when the rest is no longer aligned for direct I/O); a read that meets the end
/// of the file is an error, never a silent truncation.
///
/// Cancellation (`Slice.cancel`) is looked at before every submission: once it is set, nothing
/// more of that slice is submitted, its requests in flight are cancelled where the engine can
/// (`IOQueue.cancel`) and reaped, and only then the slice ends with a `.cancelled` error, so the
/// kernel never touches the slice's memory after it is reported.
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
    /// Whether a next slice may start while the current one's requests are in flight.
    let pipelines: Bool

    /// The scheduler's working state. It lives in a local variable while slices run (swapped
    /// out of `saved` and back), so the per-request code touches only local memory: no dynamic
    /// exclusivity checks and no copy-on-write checks on class properties in the hot loop.
    private var saved: SchedulerState

    /// Requests per submit call at most (see `RequestMerging`).
    let callLimit: Int
    /// Whether slices are reported strictly in the order they were taken, one per pass of the loop
    /// (a blocking streamed read runs the caller's code in `done`, then hands the freed memory back
    /// through `next()`, which is asked before the next wait): the loop does not wait in the kernel
    /// while the oldest slice is done and not yet reported.
    let inOrder: Bool

    init(queue: IOQueue, blockSize: Int, depth: Int, singleSubmit: Bool, overlap: Bool, workerIndex: Int = 0,
         requestCounter: RequestCounter? = nil, merging: RequestMerging = .allowed,
         inOrder: Bool = false) {
        self.inOrder = inOrder
        self.workerIndex = workerIndex
        self.requestCounter = requestCounter
        self.queue = queue
        self.blockSize = blockSize
        // A queue may hold fewer requests than asked (an io_uring ring the kernel made smaller).
        self.depth = min(depth, queue.capacity)
        self.singleSubmit = singleSubmit
        self.overlap = overlap
        pipelines = overlap && queue.capabilities.contains(.overlapsOperations)
        callLimit = RequestMerging.callLimit(merging, capabilities: queue.capabilities, blockSize: blockSize,
                                             singleSubmit: singleSubmit)
        saved = SchedulerState(depth: self.depth)
    }

    /// The queue's description of the path it takes, and how requests are submitted when they
    /// are kept whole (see `RequestMerging`).
    var pathDescription: String {
        let path = queue.pathDescription
        return callLimit == RequestMerging.unpluggedCall
            ? path + ", submit calls of at most \(RequestMerging.unpluggedCall) requests (no block-layer merging)" : path
    }

    /// Runs the slice `next()` gives, and while it runs (see `pipelines`) the further ones it
    /// gives; calls `done` for each once the kernel is done with all of its requests, with its
    /// first error. Returns when every slice taken was reported.
    func run(next: () -> (Slice, PendingOperation)?,
             done: (PendingOperation, AsyncIOError?) -> Void) {
        run(next: { next().map { WorkItem($0.0, $0.1) } }, done: { owner, error in done(owner.operation, error) })
    }

    /// Runs the work items `next()` gives (plain slices and striped shares alike), as
    /// `run(next:done:)` does slices; `done` gets each item's owner.
    func run(next: () -> WorkItem?, done: (WorkItem.Owner, AsyncIOError?) -> Void) {
        var st = SchedulerState(depth: 0)
        swap(&st, &saved)
        defer { swap(&st, &saved) }
        st.lanes.removeAll(keepingCapacity: true)
        st.firstLive = 0
        guard start(next(), &st) else { return }
        let env = SchedulerState.Environment(queue: queue, blockSize: blockSize, callLimit: callLimit,
                                             workerIndex: workerIndex)
        // Requests that go through the page cache (an unaligned tail, or the rest of a short
        // direct transfer) never run beside direct ones: a buffered write reads, patches and later
        // writes back a whole page, which could bring back stale bytes over a direct write to the
        // same page in flight at that moment. They wait until no direct request is in flight.
        var bufferedPhase = false
        do throws(AsyncIOError) {
            while true {
                st.cancelLanes(queue)
                report(&st, done)
                guard let current = st.lanes.indices[st.firstLive...].last(where: { !st.lanes[$0].reported }) else {
                    break
                }
                if st.inFlight == 0 && st.pending.isEmpty && !st.deferred.isEmpty {
                    swap(&st.pending, &st.deferred)
                    bufferedPhase = true
                } else if !bufferedPhase && (overlap || (st.inFlight == 0 && st.pending.isEmpty)) {
                    st.refill(st.lanes.count - 1, env)
                    // Queued operations start while the newest one is wholly handed out and slots are
                    // free. One reap can free several slots; starting a single operation per reap
                    // would let the queue drain when operations are small (one request each).
                    while pipelines, st.lanes[st.lanes.count - 1].isHandedOut, st.deferred.isEmpty,
                          st.freeSlots.count > 0, start(next(), &st) {
                        st.refill(st.lanes.count - 1, env)
                    }
                }
                try st.flush(env)
                if st.inFlight == 0 && st.pending.isEmpty {
                    bufferedPhase = false
                    continue
                }
                // In order: the oldest slice is done, so report it before waiting for more.
                if inOrder, st.firstLive < st.lanes.count, st.lanes[st.firstLive].isDone { continue }
                try st.reapAndCheck(env, path: st.lanes[current].slice?.file.path ?? "")
            }
        } catch {
            // The queue itself failed (a submit or reap call): every slice still running ends with it.
            st.drain(queue)
            for i in st.lanes.indices[st.firstLive...] where !st.lanes[i].reported {
                if st.lanes[i].failure == nil { st.lanes[i].failure = error }
                st.lanes[i].inFlight = 0
                st.lanes[i].waiting = 0
            }
            // Every lane now, in order (in-order mode too).
            report(&st, done, oldestOnly: false)
        }
        st.drain(queue)
        st.lanes.removeAll(keepingCapacity: true)
        st.firstLive = 0
    }

    /// Adds a lane for `item` (nil: nothing to add); returns whether one was added.
    private func start(_ item: WorkItem?, _ st: inout SchedulerState) -> Bool {
        guard let item else { return false }
        var lane = Lane(slice: item.slice, owner: item.owner, stripe: item.stripe, latency: item.latency)
        if item.isCancelled {
            // Cancelled before this worker reached it: submit nothing.
            lane.failure = .cancelled(item.slice.operation == .read ? "read" : "write", path: item.slice.file.path)
        } else {
            queue.begin(item.slice)
            queue.prepare(memory: item.memory, region: item.region,
                          fds: [item.slice.file.directFD, item.slice.file.bufferedFD])
        }
        st.lanes.append(lane)
        return true
    }

    /// Reports every lane the kernel is done with, in order, dropping its slice (and file) first
    /// (`inOrder`: the oldest lane alone, and only when it is done).
    private func report(_ st: inout SchedulerState, _ done: (WorkItem.Owner, AsyncIOError?) -> Void,
                        oldestOnly: Bool? = nil) {
        let candidates = oldestOnly ?? inOrder ? st.lanes.indices[st.firstLive..<min(st.firstLive + 1, st.lanes.count)]
                                 : st.lanes.indices[st.firstLive...]
        for i in candidates where !st.lanes[i].reported && st.lanes[i].isDone {
            st.lanes[i].reported = true
            st.lanes[i].slice = nil
            requestCounter?.add(st.lanes[i].submitted)
            let owner = st.lanes[i].owner!
            st.lanes[i].owner = nil
            done(owner, st.lanes[i].failure)
        }
        st.advance()
    }
}

/// Nanoseconds on the monotonic clock.
@inline(__always)
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
