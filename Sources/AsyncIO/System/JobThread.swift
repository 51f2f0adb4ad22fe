/// A thread that takes jobs in order from a queue of its own, until it is stopped: the thread and
/// the queue of a handle's worker (`Worker`), which say what a job is and how it runs.
// @unchecked: `jobs` and `stopping` are read and written under `lock`; `thread` is set by `start`
// and cleared by `stop`, both called by the owner, never concurrently. `Job` need not be Sendable
// (a slice carries a raw pointer to its buffer): each job passes from the enqueuing thread to the
// job thread under `lock` and is used by one of them at a time.
final class JobThread<Job>: @unchecked Sendable {
    private let lock = ConditionLock()
    private var jobs: [Job] = []
    private var stopping = false
    private var thread: OSThread?

    init() {}

    /// Starts the thread; `body` runs on it, typically `while waitForJobs() { ... next() ... }`.
    func start(name: String, _ body: @escaping @Sendable () -> Void) throws(AsyncIOError) {
        thread = try OSThread(name: name, body)
    }

    /// Queues `job` and wakes the thread.
    func enqueue(_ job: Job) {
        lock.withLock {
            jobs.append(job)
            lock.broadcast()
        }
    }

    /// Blocks until a job is queued or `stop()` was called; whether there is a job to take (the
    /// jobs queued before `stop()` are still handed out).
    func waitForJobs() -> Bool {
        lock.withLock {
            while jobs.isEmpty && !stopping { lock.waitLocked() }
            return !jobs.isEmpty
        }
    }

    /// The oldest queued job, if any (never blocks).
    func next() -> Job? {
        lock.withLock { jobs.isEmpty ? nil : jobs.removeFirst() }
    }

    /// Tells the thread to end once the queue is empty and waits for it.
    func stop() {
        lock.withLock {
            stopping = true
            lock.broadcast()
        }
        thread?.join()
        thread = nil
    }
}
