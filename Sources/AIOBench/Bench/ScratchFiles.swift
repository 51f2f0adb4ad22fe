import Dispatch
import Foundation
import Glibc

/// Files and folders the tool created and must remove: at the end of a run, on error, and on
/// Ctrl-C (SIGINT) or SIGTERM, after which the process exits with 128 + the signal number.
public final class ScratchFiles: @unchecked Sendable {
    /// The one registry of the process.
    public static let shared = ScratchFiles()

    private let lock = NSLock()
    private var files: [String] = []
    private var folders: [String] = []
    private var sources: [DispatchSourceSignal] = []
    private var onSignal: [@Sendable () -> Void] = []

    private init() {}

    /// Removes registered paths on SIGINT/SIGTERM. Safe to call more than once.
    public func installSignalHandlers() {
        lock.lock()
        defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                let hooks = lock.withLock { onSignal }
                for hook in hooks { hook() }
                removeAll()
                let name = sig == SIGINT ? "interrupted" : "terminated"
                FileHandle.standardError.write(Data("aio-bench: \(name); removed test files\n".utf8))
                _exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Runs `hook` when a signal arrives, before files are removed.
    public func addSignalHook(_ hook: @escaping @Sendable () -> Void) {
        lock.withLock { onSignal.append(hook) }
    }

    /// Registers a file to remove.
    public func add(file: String) { lock.withLock { if !files.contains(file) { files.append(file) } } }
    /// Registers a folder to remove when empty (after its files).
    public func add(folder: String) { lock.withLock { if !folders.contains(folder) { folders.append(folder) } } }

    /// Removes one registered file now.
    public func remove(file: String) {
        unlink(file)
        lock.withLock { files.removeAll { $0 == file } }
    }

    /// Removes every registered file, then every registered (now empty) folder.
    public func removeAll() {
        let (f, d) = lock.withLock { () -> ([String], [String]) in
            defer {
                files = []
                folders = []
            }
            return (files, folders)
        }
        for path in f { unlink(path) }
        for path in d.reversed() { rmdir(path) }
    }
}
