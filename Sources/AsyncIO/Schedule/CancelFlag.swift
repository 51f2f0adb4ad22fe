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
