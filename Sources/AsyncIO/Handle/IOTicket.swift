/// One operation started with `AIOHandle.submitRead` or `submitWrite`: await it, wait for it,
/// check it or cancel it, on its own.
///
/// A ticket is a small value that can be copied and sent between tasks and threads; every copy
/// speaks of the same operation. Dropping every copy does not stop the operation: it runs to its
/// end, and the handle keeps its buffer until then. Tickets are not counted by the handle-wide
/// `AIOHandle.wait()` (DeepSpeed's), which waits only for operations started with `async: true`.
///
/// ```swift
/// let ticket = try handle.submitRead(into: buffer, from: path)
/// // ... other work ...
/// let bytes = try await ticket.value
/// ```
public struct IOTicket: Sendable {
    let operationState: PendingOperation
    let state: CompletionState

    /// Read or write.
    package var operation: IOOperation { operationState.operation }
    /// The file the operation moves bytes to or from.
    package var path: String { operationState.path }
    /// The bytes the operation moves when it succeeds.
    public var count: Int { operationState.count }

    /// The bytes moved, once the whole operation is done; throws its first error.
    ///
    /// Suspends the task without blocking a thread. When the awaiting task is cancelled, the
    /// operation is cancelled (see `cancel()`) and this throws a `.cancelled` error once the
    /// kernel is done with the buffer, unless the operation had completed already.
    public var value: Int {
        get async throws(AsyncIOError) {
            let op = operationState
            await withTaskCancellationHandler {
                await state.awaitDone(op)
            } onCancel: {
                op.cancel.set()
            }
            if let error = state.error(of: op) { throw error }
            return op.count
        }
    }

    /// Blocks the calling thread until the whole operation is done; returns the bytes moved or
    /// throws its first error. Do not call it from a task (use `value`).
    @discardableResult
    public func wait() throws(AsyncIOError) -> Int {
        try state.waitFor(operationState)
        return operationState.count
    }

    /// Whether the operation is done (successfully or not); never blocks.
    public var isComplete: Bool { state.isDone(operationState) }

    /// Cancels the operation: its workers submit none of its remaining requests, the requests in
    /// flight are cancelled where the engine can (io_uring `IORING_OP_ASYNC_CANCEL`, kernel AIO
    /// `io_cancel`, which regular files mostly refuse) and waited for otherwise. The operation
    /// then ends with a `.cancelled` error. Does nothing once the operation is done; never blocks.
    public func cancel() {
        operationState.cancel.set()
    }
}
