/// What one striped read or write moved, member by member.
public struct StripeTransfer: Sendable, Equatable {
    /// One member's share.
    public struct Member: Sendable, Equatable {
        /// The member file.
        public var path: String
        /// Bytes moved to or from it.
        public var bytes: Int
        /// Seconds from the start of the operation until this member's last request completed
        /// (0 for a member with nothing to move).
        public var seconds: Double

        /// This member's speed in GiB/s (bytes / seconds / 1024³); 0 when it moved nothing.
        public var gibPerSecond: Double { seconds > 0 ? Double(bytes) / seconds / 1_073_741_824 : 0 }
    }

    /// Read or write.
    package var operation: IOOperation
    /// Bytes moved in all.
    public var bytes: Int
    /// Seconds from the start of the operation (after the files were opened) until its last request
    /// completed.
    public var seconds: Double
    /// Each member's share, in member order.
    public var members: [Member]
}

/// One striped read or write in progress, as `StripedHandle.submitRead` and `submitWrite` return it:
/// wait for it (`wait()`), or await it (`completion()`). Either may be called any number of times, from
/// any thread or task; all get the same outcome.
///
/// The ticket keeps the buffer and the member files alive until the last request has completed.
// @unchecked: every `var` is guarded by `lock`; the rest are `let`s.
public final class StripeTicket: @unchecked Sendable {
    /// Read or write.
    package let operation: IOOperation
    /// The member files, in member order.
    package let paths: [String]
    /// Bytes each member moves, in member order.
    package let memberBytes: [Int]

    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var remaining: Int
    private var failure: AsyncIOError?
    private var memberEnds: [UInt64]
    private var ended: UInt64 = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var files: [IOFile]
    private var buffer: AlignedBuffer?
    private let started: UInt64
    /// Set by `cancel()`; the member runners read it before every submission.
    let cancelFlag: CancelFlag

    init(operation: IOOperation, paths: [String], memberBytes: [Int], jobs: Int, files: [IOFile],
         buffer: AlignedBuffer, cancelFlag: CancelFlag = CancelFlag()) {
        self.cancelFlag = cancelFlag
        self.operation = operation
        self.paths = paths
        self.memberBytes = memberBytes
        remaining = jobs
        memberEnds = Array(repeating: 0, count: paths.count)
        self.files = files
        self.buffer = buffer
        started = monotonicNanos()
        if jobs == 0 { finish() }
    }

    /// Whether every request has completed (successfully or not).
    package var isDone: Bool { lock.withLock { remaining == 0 } }

    /// One job of `member` ended, with `error` when it failed.
    func jobFinished(member: Int, error: AsyncIOError?) {
        let now = monotonicNanos()
        let wake: [CheckedContinuation<Void, Never>] = lock.withLock {
            memberEnds[member] = max(memberEnds[member], now)
            if let error, failure == nil { failure = error }
            remaining -= 1
            guard remaining == 0 else { return [] }
            return finishLocked(at: now)
        }
        for waiter in wake { waiter.resume() }
    }

    private func finish() {
        let wake = lock.withLock { finishLocked(at: monotonicNanos()) }
        for waiter in wake { waiter.resume() }
    }

    /// Marks the operation done: releases files and buffer, wakes blocked waiters and returns the
    /// suspended ones to resume (outside the lock).
    private func finishLocked(at now: UInt64) -> [CheckedContinuation<Void, Never>] {
        ended = now
        files = []
        buffer = nil
        lock.broadcast()
        defer { waiters = [] }
        return waiters
    }

    /// Blocks until every request has completed; returns what moved, or throws the first error.
    @discardableResult
    public func wait() throws(AsyncIOError) -> StripeTransfer {
        try lock.withLock {
            while remaining > 0 { lock.waitLocked() }
            return outcomeLocked()
        }.get()
    }

    /// Stops the operation: nothing more is submitted, requests in flight are cancelled where the
    /// engine can, and once the rest are back the ticket ends with a `.cancelled` error (unless it
    /// had ended already). The buffer stays lent to the operation until then.
    public func cancel() { cancelFlag.set() }

    /// Suspends until every request has completed; returns what moved, or throws the first error.
    ///
    /// Cancelling the awaiting task cancels the operation (see `cancel()`); this returns when the
    /// kernel is done with every request, throwing `.cancelled`.
    @discardableResult
    public func completion() async throws(AsyncIOError) -> StripeTransfer {
        await withTaskCancellationHandler {
            await ended()
        } onCancel: {
            cancel()
        }
        return try lock.withLock { outcomeLocked() }.get()
    }

    /// Suspends until every request has completed.
    private func ended() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = lock.withLock {
                if remaining == 0 { return true }
                waiters.append(c)
                return false
            }
            if ready { c.resume() }
        }
    }

    private func outcomeLocked() -> Result<StripeTransfer, AsyncIOError> {
        if let failure { return .failure(failure) }
        let members = paths.indices.map { m in
            StripeTransfer.Member(path: paths[m], bytes: memberBytes[m],
                                  seconds: memberBytes[m] == 0 ? 0 : Double(memberEnds[m] &- started) / 1e9)
        }
        return .success(StripeTransfer(operation: operation, bytes: memberBytes.reduce(0, +),
                                       seconds: Double(ended &- started) / 1e9, members: members))
    }
}
