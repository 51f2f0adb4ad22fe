/// One read or write in flight, plain or striped: what its tickets (`IOTicket`) and DeepSpeed's calls
/// wait for. Its work items (one per worker, or per member and worker) report to it; when the last has
/// ended, the buffer's loan is returned and the files released before anyone waiting wakes up.
// @unchecked: every `var` is guarded by `lock`; the rest are `let`s (the group synchronises itself).
final class PendingOperation: @unchecked Sendable {
    /// Read or write.
    let operation: IOOperation
    /// Bytes the operation moves when it succeeds.
    let count: Int
    /// The files, member by member (one for a plain operation).
    let paths: [String]
    /// Bytes each member moves, in member order.
    let memberBytes: [Int]
    /// The buffer, lent (see `AlignedBuffer.isLent`) until the operation has ended.
    let buffer: AlignedBuffer
    /// Per-request timing, if asked for.
    let latency: LatencySink?
    /// Set by `IOTicket.cancel()` or the awaiting task's cancellation; the workers read it.
    let cancel: CancelFlag
    /// DeepSpeed's handle-wide `wait()`, told once when the operation ends (nil: not counted there).
    private let group: AsyncOperations?
    private let started = monotonicNanos()

    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var remaining = 0
    private var failure: AsyncIOError?
    private var done = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// Holds the files (and so their descriptors) open until every work item has ended.
    private var files: [IOFile]
    private var memberEnds: [UInt64]
    private var ended: UInt64 = 0

    /// The first (for a plain operation, the only) file.
    var path: String { paths[0] }

    init(_ operation: IOOperation, files: [IOFile], memberBytes: [Int], buffer: AlignedBuffer, latency: LatencySink?,
         cancel: CancelFlag = CancelFlag(), group: AsyncOperations? = nil) {
        self.operation = operation
        self.files = files
        paths = files.map(\.path)
        self.memberBytes = memberBytes
        count = memberBytes.reduce(0, +)
        self.buffer = buffer
        self.latency = latency
        self.cancel = cancel
        self.group = group
        memberEnds = Array(repeating: 0, count: files.count)
    }

    /// Lends the buffer (to `holder`, the name a misuse message gives) and expects `parts` work items;
    /// with none, the operation ends at once.
    func begin(parts: Int, holder: String) {
        buffer.lend(to: operation, holder: holder)
        group?.started()
        lock.withLock { remaining = parts }
        if parts == 0 { finished(member: 0, nil, completesItem: false) }
    }

    /// One work item of `member` ended, with its first error (`completesItem` false: nothing ran).
    func finished(member: Int, _ error: AsyncIOError?, completesItem: Bool = true) {
        let now = monotonicNanos()
        let wake: (waiters: [CheckedContinuation<Void, Never>], failure: AsyncIOError?)? = lock.withLock {
            if completesItem {
                remaining -= 1
                memberEnds[member] = max(memberEnds[member], now)
            }
            if let error, failure == nil { failure = error }
            guard remaining == 0 else { return nil }
            done = true
            ended = now
            files = []
            buffer.endLoan(of: operation)
            lock.broadcast()
            defer { waiters = [] }
            return (waiters, failure)
        }
        guard let wake else { return }
        group?.ended(failure: wake.failure)
        for waiter in wake.waiters { waiter.resume() }
    }

    /// Whether every work item has ended.
    var isDone: Bool { lock.withLock { done } }

    /// Blocks the thread until the operation has ended; throws its first error.
    func wait() throws(AsyncIOError) {
        let error: AsyncIOError? = lock.withLock {
            while !done { lock.waitLocked() }
            return failure
        }
        if let error { throw error }
    }

    /// Suspends the task until the operation has ended (cancellation is the caller's: see `IOTicket.value`);
    /// throws its first error.
    func awaitEnd() async throws(AsyncIOError) {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready: Bool = lock.withLock {
                if done { return true }
                waiters.append(c)
                return false
            }
            if ready { c.resume() }
        }
        if let error = lock.withLock({ failure }) { throw error }
    }

    /// What moved, member by member; nil until the operation has ended, or when it failed.
    var transfer: IOTransfer? {
        lock.withLock {
            guard done, failure == nil else { return nil }
            let members = paths.indices.map { m in
                IOTransfer.Member(path: paths[m], bytes: memberBytes[m],
                                  seconds: memberBytes[m] == 0 ? 0 : Double(memberEnds[m] &- started) / 1e9)
            }
            return IOTransfer(operation: operation, bytes: count, seconds: Double(ended &- started) / 1e9,
                              members: members)
        }
    }
}

/// The asynchronous operations of one handle (DeepSpeed's `async` calls), which its handle-wide
/// `wait()` collects: how many are pending and completed, and the first error among them.
// @unchecked: every `var` is guarded by `lock`.
final class AsyncOperations: @unchecked Sendable {
    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var pending = 0
    private var completed = 0
    private var firstError: AsyncIOError?

    /// One more operation is pending.
    func started() { lock.withLock { pending += 1 } }

    /// One pending operation ended.
    func ended(failure: AsyncIOError?) {
        lock.withLock {
            pending -= 1
            completed += 1
            if let failure, firstError == nil { firstError = failure }
            lock.broadcast()
        }
    }

    /// Waits for every pending operation; returns how many completed since the last call and resets.
    func waitAll() throws(AsyncIOError) -> Int {
        let (count, error): (Int, AsyncIOError?) = lock.withLock {
            while pending > 0 { lock.waitLocked() }
            defer {
                completed = 0
                firstError = nil
            }
            return (completed, firstError)
        }
        if let error { throw error }
        return count
    }
}
