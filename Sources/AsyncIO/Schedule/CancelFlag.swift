import Synchronization

/// Set once when an operation is cancelled; its workers read it between requests and stop
/// submitting (see `SliceRunner.run`).
final class CancelFlag: Sendable {
    private let value = Atomic<Bool>(false)

    /// Marks the operation cancelled; returns whether this call did it (false when it was already).
    @discardableResult
    func set() -> Bool {
        value.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }

    /// Whether the operation was cancelled.
    var isSet: Bool { value.load(ordering: .acquiring) }
}

extension CancelFlag {
    /// Runs `body` with a new flag that the task's cancellation sets, the handler in place from before
    /// `body` starts anything: a cancellation that arrives while the workers start (the awaiting task
    /// not yet suspended) reaches them at once, not when the task next runs.
    static func whileCancellable<T>(_ body: (CancelFlag) async throws(AsyncIOError) -> T)
        async throws(AsyncIOError) -> T {
        let flag = CancelFlag()
        let result: Result<T, AsyncIOError> = await withTaskCancellationHandler {
            do throws(AsyncIOError) {
                return .success(try await body(flag))
            } catch {
                return .failure(error)
            }
        } onCancel: {
            flag.set()
        }
        return try result.get()
    }
}
