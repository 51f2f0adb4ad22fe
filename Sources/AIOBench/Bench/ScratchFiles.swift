import AsyncIO
import Foundation

/// Files and folders the tool created and must remove: at the end of a run, on error, and on
/// Ctrl-C (SIGINT) or SIGTERM, after which the process exits with 128 + the signal number.
final class ScratchFiles: @unchecked Sendable {
    // @unchecked: `lock` guards the lists; `creationGate` is itself thread-safe.
    /// The one registry of the process.
    static let shared = ScratchFiles()

    private let lock = NSLock()
    private var files: [String] = []
    private var folders: [String] = []
    private var installed = false
    private var onSignal: [@Sendable () -> Void] = []
    /// Set once the process has printed its last line and is only ending: a signal then removes
    /// what is left and exits with this status, silently.
    private var quietExitStatus: Int32?
    /// Held shared while a registered path is created, and for good by the signal handler: the
    /// removal on a signal never runs between a file's creation and its registration, and no
    /// file is created after the removal (the creator blocks until the process exits).
    private let creationGate = CreationGate()

    private init() {}

    /// Removes registered paths on SIGINT/SIGTERM. Safe to call more than once.
    func installSignalHandlers() {
        lock.lock()
        defer { lock.unlock() }
        guard !installed else { return }
        installed = true
        TerminationSignals.install { [self] sig in
            // Wait for creations in progress; none starts after this (never reopened: the
            // process exits below).
            creationGate.closeForever()
            let hooks = lock.withLock { onSignal }
            for hook in hooks { hook() }
            removeAll()
            if let quiet = lock.withLock({ quietExitStatus }) { SystemInfo.exitImmediately(quiet) }
            let name = sig == .interrupt ? "interrupted" : "terminated"
            FileHandle.standardError.write(Data("aio-bench: \(name); removed test files\n".utf8))
            SystemInfo.exitImmediately(sig.exitStatus)
        }
    }

    /// From now on a SIGINT/SIGTERM removes what is left and exits with `status` without a line: the
    /// process has said what it had to and is only ending (an MPI rank that `mpirun` may kill then).
    func endQuietly(status: Int32) { lock.withLock { quietExitStatus = status } }

    /// Runs `hook` when a signal arrives, before files are removed.
    func addSignalHook(_ hook: @escaping @Sendable () -> Void) {
        lock.withLock { onSignal.append(hook) }
    }

    /// Runs `body`, which creates paths to register (or registers them first), so that the
    /// removal on SIGINT/SIGTERM happens entirely before or entirely after it. Once a signal's
    /// removal has begun, `body` does not run: the caller waits until the process exits.
    func creating<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        try creationGate.pass(body)
    }

    /// Stops tracking `file` without removing it (it was renamed into place, or is kept).
    func forget(file: String) { lock.withLock { files.removeAll { $0 == file } } }

    /// Registers a file to remove.
    func add(file: String) { lock.withLock { if !files.contains(file) { files.append(file) } } }
    /// Registers a folder to remove when empty (after its files).
    func add(folder: String) { lock.withLock { if !folders.contains(folder) { folders.append(folder) } } }

    /// Removes one registered file now.
    func remove(file: String) {
        FileSystem.removeFileIfPresent(file)
        lock.withLock { files.removeAll { $0 == file } }
    }

    /// Removes every registered file, then every registered (now empty) folder.
    func removeAll() {
        let (f, d) = lock.withLock { () -> ([String], [String]) in
            defer {
                files = []
                folders = []
            }
            return (files, folders)
        }
        for path in f { FileSystem.removeFileIfPresent(path) }
        for path in d.reversed() { FileSystem.removeEmptyDirectory(path) }
    }
}
