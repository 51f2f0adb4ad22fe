/// A persistent worker thread of a striped handle: owns one kernel queue and runs the jobs given to it,
/// one after the other (each job keeps up to `queueDepth` requests in flight).
// @unchecked: `jobs`, `stopping` and `thread` are guarded by `lock`; the runner is used on the worker's own
// thread only.
final class StripeWorker: @unchecked Sendable {
    private let lock = ConditionLock()
    private var jobs: [StripeJob] = []
    private var stopping = false
    private let runner: StripeMemberRunner
    private var thread: OSThread?

    /// The queue's description of the path it takes.
    var pathDescription: String { runner.queue.pathDescription }

    init(index: Int, queue: IOQueue, config: HandleConfig, requests: RequestCounter) throws(AsyncIOError) {
        runner = StripeMemberRunner(queue: queue, config: config, workerIndex: index, requestCounter: requests)
        thread = try OSThread(name: "aio-stripe-\(index)") { [self] in loop() }
    }

    func enqueue(_ job: StripeJob) {
        lock.withLock {
            jobs.append(job)
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
            var next: StripeJob? = lock.withLock {
                while jobs.isEmpty && !stopping { lock.waitLocked() }
                return jobs.isEmpty ? nil : jobs.removeFirst()
            }
            guard let ticket = next?.ticket, let member = next?.member else { return }
            var failure: AsyncIOError?
            do {
                try runner.run(next!)
            } catch {
                failure = error
            }
            // Drop the job (and with it the file) before reporting: once the caller's wait returns, no
            // worker holds the operation's descriptors any more.
            next = nil
            ticket.jobFinished(member: member, error: failure)
        }
    }
}
