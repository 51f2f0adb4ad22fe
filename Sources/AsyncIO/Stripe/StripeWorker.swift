/// A persistent worker thread of a striped handle: owns one kernel queue and runs the jobs given to it,
/// one after the other (each job keeps up to `queueDepth` requests in flight).
// @unchecked: the runner is not Sendable and is used on the worker's own thread only; the job queue is
// Sendable.
final class StripeWorker: @unchecked Sendable {
    private let jobs = JobThread<StripeJob>()
    private let runner: StripeMemberRunner

    /// The queue's description of the path it takes.
    var pathDescription: String { runner.queue.pathDescription }

    init(index: Int, queue: IOQueue, config: HandleConfig, requests: RequestCounter) throws(AsyncIOError) {
        runner = StripeMemberRunner(queue: queue, config: config, workerIndex: index, requestCounter: requests)
        try jobs.start(name: "aio-stripe-\(index)") { [self] in loop() }
    }

    func enqueue(_ job: StripeJob) { jobs.enqueue(job) }

    func stop() { jobs.stop() }

    private func loop() {
        while jobs.waitForJobs() {
            var next = jobs.next()
            guard let ticket = next?.ticket, let member = next?.member else { continue }
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
