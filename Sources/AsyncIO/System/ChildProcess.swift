import CAsyncIO
import Glibc

/// Runs another program with an argument vector (never through a shell) and collects what it
/// prints: the one place the package starts child processes (fio, DeepSpeed's `ds_io`).
package enum ChildProcess {
    /// How the child ended.
    package enum Termination: Sendable, Equatable {
        /// It exited with this status.
        case exited(Int32)
        /// A signal ended it.
        case signaled(Int32)
        /// It ran past the timeout and was killed.
        case timedOut
    }

    /// What the child printed and how it ended.
    package struct Output: Sendable {
        /// How it ended.
        package var termination: Termination
        /// Everything written to standard output (up to the limit).
        package var standardOutput: [UInt8]
        /// Everything written to standard error (up to the limit).
        package var standardError: [UInt8]
        /// Whether it exited with status 0.
        package var succeeded: Bool { termination == .exited(0) }
    }

    /// Starts `executable` with `arguments` (argv[0] is the executable), this process's environment
    /// with `environment` added (replacing variables of the same name), standard input from
    /// /dev/null, and waits for it to end, at most `timeout` (then it is killed with SIGKILL).
    /// SIGINT and SIGTERM have their default action in the child even when this process
    /// ignores them, so Ctrl-C ends both.
    ///
    /// - Throws: `AsyncIOError` for `pipe2`, `posix_spawn` (for example `ENOENT` when the
    ///   program is missing) and `waitpid`.
    ///
    /// The corresponding C function is `posix_spawn`.
    package static func run(
        _ executable: String, arguments: [String], environment: [String: String] = [:], timeout: Duration? = nil,
        outputLimit: Int = 64 << 20
    ) throws(AsyncIOError) -> Output {
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        _ = try syscallRetrying("pipe2") { CAsyncIO_pipe2(&out, CAsyncIO_O_CLOEXEC) }
        do throws(AsyncIOError) {
            _ = try syscallRetrying("pipe2") { CAsyncIO_pipe2(&err, CAsyncIO_O_CLOEXEC) }
        } catch {
            close(out[0]); close(out[1])
            throw error
        }
        let pid: pid_t
        do throws(AsyncIOError) {
            pid = try spawn(executable, arguments, environment, stdout: out[1], stderr: err[1])
        } catch {
            for fd in out + err { close(fd) }
            throw error
        }
        close(out[1])
        close(err[1])
        defer { close(out[0]); close(err[0]) }
        let (stdout, stderr, timedOut) = collect(out[0], err[0], timeout: timeout, limit: outputLimit, pid: pid)
        var status: Int32 = 0
        _ = try syscallRetrying("waitpid", path: executable) { waitpid(pid, &status, 0) }
        let termination: Termination
        if timedOut {
            termination = .timedOut
        } else if status & 0x7f == 0 {
            termination = .exited((status >> 8) & 0xff)
        } else {
            termination = .signaled(status & 0x7f)
        }
        return Output(termination: termination, standardOutput: stdout, standardError: stderr)
    }

    private static func spawn(
        _ executable: String, _ arguments: [String], _ environment: [String: String], stdout: Int32, stderr: Int32
    ) throws(AsyncIOError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = ([executable] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var inherited: [String] = []
        var index = 0
        while let entry = environ[index] {
            let text = String(cString: entry)
            let name = text.split(separator: "=", maxSplits: 1).first.map(String.init) ?? text
            if environment[name] == nil { inherited.append(text) }
            index += 1
        }
        let envp = (inherited + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
            .map { strdup($0) }
        defer { envp.forEach { free($0) } }
        var pid = pid_t()
        let rc = (argv + [nil]).withUnsafeBufferPointer { pointers in
            (envp + [nil]).withUnsafeBufferPointer { env in
                posix_spawn(&pid, executable, &actions, &attributes,
                            UnsafeMutablePointer(mutating: pointers.baseAddress!),
                            UnsafeMutablePointer(mutating: env.baseAddress!))
            }
        }
        if rc != 0 { throw .system("posix_spawn", errno: rc, path: executable) }
        return pid
    }

    /// Reads both pipes until they close, or until the deadline (then kills the child).
    private static func collect(_ outFD: Int32, _ errFD: Int32, timeout: Duration?, limit: Int, pid: pid_t)
        -> (out: [UInt8], err: [UInt8], timedOut: Bool)
    {
        var buffers: [[UInt8]] = [[], []]
        var open = [true, true]
        let fds = [outFD, errFD]
        let deadline = timeout.map { monotonicNanos() &+ UInt64(max(0, $0.components.seconds)) * 1_000_000_000
            &+ UInt64(max(0, $0.components.attoseconds / 1_000_000_000)) }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while open[0] || open[1] {
            var polls = (0..<2).map { pollfd(fd: open[$0] ? fds[$0] : -1, events: Int16(POLLIN), revents: 0) }
            var wait: Int32 = -1
            if let deadline {
                let now = monotonicNanos()
                if now >= deadline {
                    kill(pid, SIGKILL)
                    return (buffers[0], buffers[1], true)
                }
                wait = Int32(clamping: (deadline - now) / 1_000_000 + 1)
            }
            let ready = poll(&polls, 2, wait)
            if ready < 0 {
                if currentErrno() == EINTR { continue }
                break
            }
            for i in 0..<2 where open[i] && polls[i].revents != 0 {
                let n = chunk.withUnsafeMutableBytes { read(fds[i], $0.baseAddress, $0.count) }
                if n > 0 {
                    if buffers[i].count < limit { buffers[i].append(contentsOf: chunk[0..<min(n, limit - buffers[i].count)]) }
                } else if n == 0 || currentErrno() != EINTR {
                    open[i] = false
                }
            }
        }
        return (buffers[0], buffers[1], false)
    }
}
