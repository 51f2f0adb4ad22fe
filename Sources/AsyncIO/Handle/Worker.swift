import Glibc
import Synchronization

/// A persistent worker thread that owns one kernel queue and runs the work items given to it: slices
/// of a plain handle's operations, or members' shares of a striped handle's.
// @unchecked: the runner is not Sendable and is used on the worker's own thread only; the job queue is
// Sendable.
final class Worker: @unchecked Sendable {
    private let jobs = JobThread<WorkItem>()
    private let runner: SliceRunner
    private let wakeup: QueueWakeup?

    /// Whether the worker has run any operation.
    private let ran = Atomic<Bool>(false)
    var hasRun: Bool { ran.load(ordering: .relaxed) }

    /// The queue's description of the path it takes (see `SliceRunner.pathDescription`).
    var pathDescription: String { runner.pathDescription }

    /// Starts the worker's thread; each work item is reported to its operation once the kernel is done with it.
    init(index: Int, queue: IOQueue, config: HandleConfig, requests: RequestCounter) throws(AsyncIOError) {
        runner = SliceRunner(queue: queue, blockSize: config.blockSize, depth: config.queueDepth,
                             singleSubmit: config.singleSubmit, overlap: config.overlapEvents,
                             workerIndex: index, requestCounter: requests,
                             merging: config.engineOptions.requestMerging)
        wakeup = queue.wakeup
        try jobs.start(name: "aio-worker-\(index)") { [self] in loop() }
    }

    /// `count` workers over queues of `config`'s engine (`.auto` resolved, see `makeEngineQueues`), sharing one
    /// request counter; the configuration with the engine chosen, and why better engines were skipped.
    static func pool(count: Int, _ config: HandleConfig) throws(AsyncIOError)
        -> (workers: [Worker], config: HandleConfig, fallbacks: [String], requests: RequestCounter) {
        let (kind, queues, fallbacks) = try makeEngineQueues(count: count, config)
        var resolved = config
        resolved.engine = kind
        let requests = RequestCounter()
        var made: [Worker] = []
        for (index, queue) in queues.enumerated() {
            do {
                made.append(try Worker(index: index, queue: queue, config: resolved, requests: requests))
            } catch {
                for w in made { w.stop() }
                throw error
            }
        }
        return (made, resolved, fallbacks, requests)
    }

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
                owner.operation.finished(member: owner.member, failure)
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
