import Dispatch
import Glibc
import Synchronization

/// The signals that ask a process to stop: Ctrl-C and `kill`.
package enum TerminationSignal: Int32, Sendable, CaseIterable {
    /// `SIGINT` (Ctrl-C).
    case interrupt = 2
    /// `SIGTERM` (`kill`).
    case terminate = 15

    /// The shell's exit status for a process ended by this signal: 128 + the signal number.
    package var exitStatus: Int32 { 128 + rawValue }
}

/// Handling of SIGINT and SIGTERM outside signal context: the handler runs on a dispatch queue,
/// so it may take locks, remove files and print.
package enum TerminationSignals {
    private static let sources = Mutex<[any DispatchSourceSignal]>([])

    /// Replaces the default action of SIGINT and SIGTERM by `handler` (called once per signal
    /// delivery, on a background queue). Installing again adds nothing: the first handler stays.
    package static func install(_ handler: @escaping @Sendable (TerminationSignal) -> Void) {
        sources.withLock { sources in
            guard sources.isEmpty else { return }
            for sig in TerminationSignal.allCases {
                signal(sig.rawValue, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig.rawValue, queue: .global())
                source.setEventHandler { handler(sig) }
                source.resume()
                sources.append(source)
            }
        }
    }
}

/// A gate that many threads pass through at once and one closer shuts for good.
///
/// Creations of files that a signal handler must remove pass through it (`pass`); the handler
/// `close`s it before removing, so its removal runs entirely before or after each creation, and
/// no creation starts afterwards (the creator blocks until the process exits).
package final class CreationGate: @unchecked Sendable {
    // @unchecked: the pthread read-write lock serialises all access; its storage never moves.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    /// Creates an open gate.
    package init() {
        lock = .allocate(capacity: 1)
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    /// Runs `body` while the gate is open; blocks forever once it has been closed.
    package func pass<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    /// Waits for the bodies in progress and closes the gate for the rest of the process.
    package func closeForever() { pthread_rwlock_wrlock(lock) }
}
