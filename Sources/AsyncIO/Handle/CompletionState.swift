/// The completion state of one handle's operations: pending and completed asynchronous
/// operations (DeepSpeed's `wait()`), the first asynchronous error, and the wake-ups of waiters.
// @unchecked: every mutable field, and every mutable field of the `PendingOperation`s, is guarded by `lock`.
final class CompletionState: @unchecked Sendable {
    let lock = ConditionLock()
    // Guarded by `lock`.
    private var asyncPending = 0
    private var asyncCompleted = 0
    private var firstAsyncError: AsyncIOError?

    /// Counts an asynchronous operation as pending.
    func asyncStarted() { lock.withLock { asyncPending += 1 } }

    /// One slice of `op` finished (or, with `completesSlice` false, an operation without slices).
    ///
    /// When it was the last, the operation is done: its buffer's loan is returned and its file
    /// released before anyone waiting for it wakes up.
    func finished(_ op: PendingOperation, _ error: AsyncIOError?, completesSlice: Bool = true) {
        let continuations: [CheckedContinuation<Void, Never>] = lock.withLock {
            if completesSlice { op.remaining -= 1 }
            if let error, op.error == nil { op.error = error }
            guard op.remaining == 0 else { return [] }
            op.done = true
            op.file = nil
            op.buffer.endLoan(of: op.operation)
            if op.isAsync {
                asyncPending -= 1
                asyncCompleted += 1
                if let e = op.error, firstAsyncError == nil { firstAsyncError = e }
            }
            lock.broadcast()
            defer { op.continuations = [] }
            return op.continuations
        }
        for c in continuations { c.resume() }
    }

    /// Whether `op` is done.
    func isDone(_ op: PendingOperation) -> Bool { lock.withLock { op.done } }

    /// Waits, blocking the thread, until `op` is done; throws its error.
    func waitFor(_ op: PendingOperation) throws(AsyncIOError) {
        let error: AsyncIOError? = lock.withLock {
            while !op.done { lock.waitLocked() }
            return op.error
        }
        if let error { throw error }
    }

    /// Suspends the task until `op` is done (does not look at cancellation; see `IOTicket.value`).
    func awaitDone(_ op: PendingOperation) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready: Bool = lock.withLock {
                if op.done { return true }
                op.continuations.append(c)
                return false
            }
            if ready { c.resume() }
        }
    }

    /// The error `op` ended with; call once it is done.
    func error(of op: PendingOperation) -> AsyncIOError? { lock.withLock { op.error } }

    /// Waits for every pending asynchronous operation; returns how many completed and resets.
    func waitAll() throws(AsyncIOError) -> Int {
        let (count, error): (Int, AsyncIOError?) = lock.withLock {
            while asyncPending > 0 { lock.waitLocked() }
            defer {
                asyncCompleted = 0
                firstAsyncError = nil
            }
            return (asyncCompleted, firstAsyncError)
        }
        if let error { throw error }
        return count
    }
}
