/// One operation started with `submitRead` or `submitWrite`, on an `AIOHandle` or a `StripedHandle`:
/// await it, wait for it, check it or cancel it, on its own.
///
/// A ticket is a small value that can be copied and sent between tasks and threads; every copy
/// speaks of the same operation. Dropping every copy does not stop the operation: it runs to its
/// end, and the buffer stays lent to it until then. Tickets are not counted by DeepSpeed's
/// handle-wide `DeepSpeedHandle.wait()`, which waits only for operations started with `async: true`.
///
/// ```swift
/// let ticket = try handle.submitRead(into: buffer, from: path)
/// // ... other work ...
/// let bytes = try await ticket.value
/// print(ticket.transfer?.members.map(\.gibPerSecond) ?? [])
/// ```
public struct IOTicket: Sendable {
    let pending: PendingOperation

    /// Read or write.
    package var operation: IOOperation { pending.operation }
    /// The file the operation moves bytes to or from (a striped operation's first member).
    package var path: String { pending.path }
    /// The bytes the operation moves when it succeeds.
    public var count: Int { pending.count }

    /// The bytes moved, once the whole operation is done; throws its first error.
    ///
    /// Suspends the task without blocking a thread. When the awaiting task is cancelled, the
    /// operation is cancelled (see `cancel()`) and this throws a `.cancelled` error once the
    /// kernel is done with the buffer, unless the operation had completed already.
    public var value: Int {
        get async throws(AsyncIOError) {
            let op = pending
            let result: Result<Void, AsyncIOError> = await withTaskCancellationHandler {
                do throws(AsyncIOError) {
                    return .success(try await op.awaitEnd())
                } catch {
                    return .failure(error)
                }
            } onCancel: {
                op.cancel.set()
            }
            try result.get()
            return op.count
        }
    }

    /// Blocks the calling thread until the whole operation is done; returns the bytes moved or
    /// throws its first error. Do not call it from a task (use `value`).
    @discardableResult
    public func wait() throws(AsyncIOError) -> Int {
        try pending.wait()
        return pending.count
    }

    /// Whether the operation is done (successfully or not); never blocks.
    public var isComplete: Bool { pending.isDone }

    /// What the operation moved, member by member, and how long it took; nil while it runs and
    /// when it failed. Never blocks.
    public var transfer: IOTransfer? { pending.transfer }

    /// Cancels the operation: its workers submit none of its remaining requests, the requests in
    /// flight are cancelled where the engine can (io_uring `IORING_OP_ASYNC_CANCEL`, kernel AIO
    /// `io_cancel`, which regular files mostly refuse) and waited for otherwise. The operation
    /// then ends with a `.cancelled` error. Does nothing once the operation is done; never blocks.
    public func cancel() {
        pending.cancel.set()
    }
}

extension IOTicket {
    /// Awaits the operation as `value` does, and returns what it moved.
    func transferWhenDone() async throws(AsyncIOError) -> IOTransfer {
        _ = try await value
        // Set once the operation has ended without an error, which `value` has just seen.
        return pending.transfer!
    }
}

extension Collection<IOTicket> {
    /// Cancels every operation, then blocks until the kernel is done with each (their outcomes are
    /// dropped): what a stream abandoned or failing does with the reads or writes it has in flight.
    func cancelAndWait() {
        for ticket in self { ticket.cancel() }
        for ticket in self { _ = try? ticket.wait() }
    }

    /// Cancels every operation, then suspends until the kernel is done with each (outcomes dropped).
    func cancelAndAwait() async {
        for ticket in self { ticket.cancel() }
        for ticket in self { _ = try? await ticket.value }
    }
}
