import CAsyncIO
import Glibc
import Synchronization

/// Lets a thread that queues work for a worker wake the worker while it waits in the kernel for
/// completions, so that the new work is submitted at once rather than at the next completion.
///
/// Without it, a request queued while the worker blocks in `io_uring_enter` waits for the next
/// completion to come back; a streaming reader that hands its chunks back one at a time then
/// keeps about half its slots idle (measured: 1 MiB chunks, queue depth 16, 16 slots: 8–10
/// requests in flight at the device against fio's 16).
///
/// The queue keeps a one-shot poll of an eventfd in flight (`IORING_OP_POLL_ADD` in `URingQueue`,
/// `IOCB_CMD_POLL` in `KernelAIOQueue`); `wake()` writes to the
/// eventfd only while the worker is about to block or blocked, so a worker that is busy or idle
/// between operations costs one atomic store per job.
// Sendable: the descriptor is a `let`, the flags are atomics, and eventfd reads and writes are safe
// from any thread.
final class QueueWakeup: Sendable {
    /// The eventfd the queue polls.
    let fd: Int32
    /// Set by the worker before it blocks and cleared after.
    private let waiting = Atomic<Bool>(false)
    /// Set by `wake()`; taken by the worker's next `willWait()`.
    private let requested = Atomic<Bool>(false)

    /// A wake-up with its own eventfd, or nil when none can be had (the worker then picks up new
    /// work at its next completion, as before).
    init?() {
        let fd = CAsyncIO_eventfd()
        guard fd >= 0 else { return nil }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Called by other threads after they queued work for the worker.
    func wake() {
        requested.store(true, ordering: .sequentiallyConsistent)
        if waiting.load(ordering: .sequentiallyConsistent) { CAsyncIO_eventfd_signal(fd) }
    }

    /// Called by the worker before it blocks for completions: false when work was queued since
    /// the last call (then it must not block, but go and take it). Either the worker sees the
    /// request here or `wake()` sees the worker waiting and writes the eventfd.
    func willWait() -> Bool {
        waiting.store(true, ordering: .sequentiallyConsistent)
        if requested.exchange(false, ordering: .sequentiallyConsistent) {
            waiting.store(false, ordering: .sequentiallyConsistent)
            return false
        }
        return true
    }

    /// Whether the worker is about to block or blocked (for tests: wake it only then).
    var isWaiting: Bool { waiting.load(ordering: .sequentiallyConsistent) }

    /// Called by the worker once the wait returned.
    func didWait() { waiting.store(false, ordering: .sequentiallyConsistent) }

    /// Resets the eventfd after its poll fired, so the next poll waits for the next `wake()`.
    func drain() { CAsyncIO_eventfd_drain(fd) }
}
