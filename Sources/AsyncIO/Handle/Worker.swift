import Glibc
import Synchronization

/// One operation in progress: its slices, its first error, who waits for it.
// @unchecked: its mutable fields are read and written only under the handle's `CompletionState.lock`.
final class PendingOperation: @unchecked Sendable {
    // Guarded by the handle's lock.
    var remaining: Int
    var error: AsyncIOError?
    var done = false
    var continuation: CheckedContinuation<Void, any Error>?
    let isAsync: Bool
    /// Holds the file (and so its descriptors) open until every slice is done.
    var file: IOFile?
    let buffer: AlignedBuffer
    let latency: LatencySink?

    init(slices: Int, isAsync: Bool, file: IOFile, buffer: AlignedBuffer, latency: LatencySink?) {
        remaining = slices
        self.isAsync = isAsync
        self.file = file
        self.buffer = buffer
        self.latency = latency
    }
}

/// A persistent worker thread that owns one kernel queue and runs the slices given to it.
// @unchecked: `tasks`, `stopping` and `thread` are guarded by `lock`; the runner is used on the worker's
// own thread only.
final class Worker: @unchecked Sendable {
    private let lock = ConditionLock()
    private var tasks: [(Slice, PendingOperation)] = []
    private var stopping = false
    private let runner: SliceRunner
    private var thread: OSThread?
    private let finish: @Sendable (PendingOperation, AsyncIOError?) -> Void

    /// The queue's description of the path it takes.
    var pathDescription: String { runner.queue.pathDescription }

    init(index: Int, queue: IOQueue, config: HandleConfig, requests: RequestCounter,
         finish: @escaping @Sendable (PendingOperation, AsyncIOError?) -> Void) throws(AsyncIOError) {
        runner = SliceRunner(queue: queue, blockSize: config.blockSize, depth: config.queueDepth,
                             singleSubmit: config.singleSubmit, overlap: config.overlapEvents,
                             workerIndex: index, requestCounter: requests)
        self.finish = finish
        thread = try OSThread(name: "aio-worker-\(index)") { [self] in loop() }
    }

    func enqueue(_ slice: Slice, _ op: PendingOperation) {
        lock.withLock {
            tasks.append((slice, op))
            lock.broadcast()
        }
    }

    func stop() {
        lock.withLock {
            stopping = true
            lock.broadcast()
        }
        thread?.join()
        thread = nil
    }

    private func loop() {
        while true {
            var next: (Slice, PendingOperation)? = lock.withLock {
                while tasks.isEmpty && !stopping { lock.waitLocked() }
                if tasks.isEmpty { return nil }
                return tasks.removeFirst()
            }
            guard let op = next?.1 else { return }
            var failure: AsyncIOError?
            do {
                try runner.run(next!.0, latency: op.latency)
            } catch {
                failure = error
            }
            // Drop the slice (and with it the file) before reporting: once the caller's wait
            // returns, no worker holds the operation's descriptors any more.
            next = nil
            finish(op, failure)
        }
    }
}

/// Counts the requests a handle's workers submitted; each worker adds once per slice.
final class RequestCounter: Sendable {
    private let value = Atomic<Int>(0)
    func add(_ count: Int) { value.add(count, ordering: .relaxed) }
    var total: Int { value.load(ordering: .relaxed) }
}
