import Glibc
import Synchronization

/// One operation in progress: its slices, its first error, who waits for it.
// @unchecked: its mutable fields are read and written only under the handle's `CompletionState.lock`;
// the rest are `let`s (the cancel flag is an atomic).
final class PendingOperation: @unchecked Sendable {
    // Guarded by the handle's lock.
    var remaining: Int
    var error: AsyncIOError?
    var done = false
    /// Tasks awaiting the operation (`IOTicket.value`), resumed once it is done.
    var continuations: [CheckedContinuation<Void, Never>] = []
    /// Whether it counts in the handle-wide `wait()` (DeepSpeed's asynchronous calls).
    let isAsync: Bool
    /// Holds the file (and so its descriptors) open until every slice is done.
    var file: IOFile?
    /// The buffer, held (and lent, see `AlignedBuffer.isLent`) until every slice is done.
    let buffer: AlignedBuffer
    let operation: IOOperation
    /// Bytes the operation transfers when it succeeds.
    let count: Int
    let path: String
    let latency: LatencySink?
    /// Set by `IOTicket.cancel()` or the awaiting task's cancellation.
    let cancel: CancelFlag

    init(operation: IOOperation, count: Int, slices: Int, isAsync: Bool, file: IOFile, buffer: AlignedBuffer,
         latency: LatencySink?, cancel: CancelFlag = CancelFlag()) {
        self.cancel = cancel
        self.operation = operation
        self.count = count
        remaining = slices
        self.isAsync = isAsync
        self.file = file
        path = file.path
        self.buffer = buffer
        self.latency = latency
    }
}

/// A persistent worker thread that owns one kernel queue and runs the work items given to it: slices
/// of a plain handle's operations, or members' shares of a striped handle's.
// @unchecked: the runner is not Sendable and is used on the worker's own thread only; the job queue and
// `finish` are Sendable.
final class Worker: @unchecked Sendable {
    private let jobs = JobThread<WorkItem>()
    private let runner: SliceRunner
    private let finish: @Sendable (PendingOperation, AsyncIOError?) -> Void
    private let wakeup: QueueWakeup?

    /// Whether the worker has run any operation.
    private let ran = Atomic<Bool>(false)
    var hasRun: Bool { ran.load(ordering: .relaxed) }

    /// The queue's description of the path it takes (see `SliceRunner.pathDescription`).
    var pathDescription: String { runner.pathDescription }

    /// Starts the worker's thread; `finish` is told of each plain operation's slice once done (a
    /// striped share is reported to its ticket).
    init(index: Int, queue: IOQueue, config: HandleConfig, requests: RequestCounter,
         finish: @escaping @Sendable (PendingOperation, AsyncIOError?) -> Void) throws(AsyncIOError) {
        runner = SliceRunner(queue: queue, blockSize: config.blockSize, depth: config.queueDepth,
                             singleSubmit: config.singleSubmit, overlap: config.overlapEvents,
                             workerIndex: index, requestCounter: requests,
                             merging: config.engineOptions.requestMerging)
        self.finish = finish
        wakeup = queue.wakeup
        try jobs.start(name: "aio-worker-\(index)") { [self] in loop() }
    }

    func enqueue(_ slice: Slice, _ op: PendingOperation) { enqueue(WorkItem(slice, op)) }

    func enqueue(_ item: WorkItem) {
        jobs.enqueue(item)
        // A worker waiting for completions of earlier work submits this at once.
        wakeup?.wake()
    }

    func stop() { jobs.stop() }

    private func loop() {
        // Wait for work; the runner then takes this task and, while it runs, any queued after it.
        // The runner drops each slice (and with it the file) before reporting it: once the
        // caller's wait returns, no worker holds the operation's descriptors any more.
        while jobs.waitForJobs() {
            ran.store(true, ordering: .relaxed)
            runner.run(next: { jobs.next() }, done: { owner, failure in
                switch owner {
                case .operation(let op): finish(op, failure)
                case .stripe(let ticket, let member): ticket.jobFinished(member: member, error: failure)
                }
            })
        }
    }
}

/// Counts the requests a handle's workers submitted; each worker adds once per slice.
final class RequestCounter: Sendable {
    private let value = Atomic<Int>(0)
    func add(_ count: Int) { value.add(count, ordering: .relaxed) }
    var total: Int { value.load(ordering: .relaxed) }
}
