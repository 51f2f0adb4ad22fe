import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What one run of `aio-bench` produced.
struct CLIResult: Sendable, CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    /// stderr without its final newline, split into lines.
    var stderrLines: [Substring] {
        var text = Substring(stderr)
        if text.hasSuffix("\n") { text = text.dropLast() }
        return text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    var description: String { "exit \(status)\n--- stdout:\n\(stdout)--- stderr:\n\(stderr)" }
}

/// Errors of the test harness itself (not of the tool under test).
struct CLIHarnessError: Error, CustomStringConvertible {
    var description: String
}

enum CLI {
    /// The `aio-bench` executable built next to the test bundle (`<build>/debug/aio-bench`).
    static func binary() throws -> URL {
        let exe: String
        do {
            exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        } catch {
            throw CLIHarnessError(description: "cannot resolve /proc/self/exe: \(error)")
        }
        let url = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("aio-bench")
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw CLIHarnessError(description: "aio-bench is not built next to the test bundle: \(url.path) is missing; "
                + "run `swift build` (with the same --scratch-path) before `swift test`")
        }
        return url
    }

    /// Runs `aio-bench` with `args` (an argv array, never a shell) and returns its status and output.
    ///
    /// - Parameter prefix: an argv prefix to start the tool through (e.g. `setpriv` to drop root).
    static func run(_ args: [String], prefix: [String] = [], currentDirectory: String? = nil) throws -> CLIResult {
        let tool = try binary()
        let argv = prefix.isEmpty ? [tool.path] + args : prefix + [tool.path] + args
        return try runProgram(argv, currentDirectory: currentDirectory)
    }

    /// Runs any program from an argv array (`argv[0]` is its path; never a shell) with no standard
    /// input and returns its status and output.
    ///
    /// Spawned with `posix_spawn` (``RunningCLI``), not Foundation's `Process`: `Process.run()`
    /// reads `/proc/self/fd` copying 256 bytes of each entry's name, past the end of glibc's
    /// directory buffer when this process holds well over a thousand descriptors (the load tests
    /// beside it do); AddressSanitizer stops the whole test run on that read.
    static func runProgram(_ argv: [String], currentDirectory: String? = nil) throws -> CLIResult {
        try RunningCLI.start(argv.dropFirst().map { RawArgument($0) }, currentDirectory: currentDirectory,
                             executable: argv[0]).finish(timeout: 1800)
    }

    /// Runs `aio-bench io` with `args`.
    static func io(_ args: [String], prefix: [String] = []) throws -> CLIResult {
        try run(["io"] + args, prefix: prefix)
    }
}

/// Data handed from a reader thread to the test.
private final class DataBox: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()

    func set(_ value: Data) {
        data = value
        done.signal()
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}

// MARK: - Spawning with raw argv bytes, environment, working folder and signals

/// One argv element as raw bytes: a `String` is its UTF-8, and bytes that are not UTF-8 can be
/// passed as they are (Foundation's `Process` takes `String` arguments only).
struct RawArgument: Sendable, Equatable, ExpressibleByStringLiteral {
    var bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init(_ text: String) { bytes = Array(text.utf8) }
    init(stringLiteral value: String) { self.init(value) }
}

/// A running `aio-bench`, started with `posix_spawn` from an argv array (never a shell).
final class RunningCLI: @unchecked Sendable {
    let pid: pid_t
    private let out = DataBox()
    private let err = DataBox()
    private let lock = NSLock()
    private var exitStatus: Int32?

    private init(pid: pid_t, outFD: Int32, errFD: Int32) {
        self.pid = pid
        for (fd, box) in [(outFD, out), (errFD, err)] {
            let reader = Thread {
                var data = Data()
                var chunk = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n > 0 {
                        data.append(contentsOf: chunk[0..<n])
                    } else if n < 0 && errno == EINTR {
                        continue
                    } else {
                        break
                    }
                }
                close(fd)
                box.set(data)
            }
            reader.start()
        }
    }

    /// Starts `aio-bench` with `args` (raw bytes each).
    ///
    /// - Parameters:
    ///   - prefix: an argv prefix to start the tool through (`setpriv`, `prlimit`, ...).
    ///   - environment: variables to set on top of this process's environment.
    ///   - currentDirectory: the child's working folder.
    ///   - executable: another build of the tool (the MPI one) instead of the one next to the tests.
    static func start(_ args: [RawArgument], prefix: [String] = [], environment: [String: String] = [:],
                      currentDirectory: String? = nil, executable: String? = nil) throws -> RunningCLI {
        let tool = try executable ?? CLI.binary().path
        var argv: [RawArgument] = prefix.map { RawArgument($0) } + [RawArgument(tool)] + args
        var program = prefix.first ?? tool
        if let currentDirectory, SpawnExtras.addChdir == nil {
            // Without posix_spawn_file_actions_addchdir_np: env(1) changes folder, still no shell.
            argv = [RawArgument("/usr/bin/env"), RawArgument("--chdir=\(currentDirectory)")] + argv
            program = "/usr/bin/env"
        }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let envStrings = env.map { "\($0.key)=\($0.value)" }

        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard SpawnExtras.closeOnExecPipe(&outPipe), SpawnExtras.closeOnExecPipe(&errPipe) else {
            throw CLIHarnessError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        // Other tests' descriptors (pipes of their children) must not leak into this child.
        if let closeFrom = SpawnExtras.addCloseFrom { _ = closeFrom(&actions, 3) }
        if let currentDirectory, let addChdir = SpawnExtras.addChdir {
            _ = currentDirectory.withCString { addChdir(&actions, $0) }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Default dispositions and an empty mask: the test process may ignore SIGINT/SIGTERM.
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let cArgv = argv.map { arg -> UnsafeMutablePointer<CChar>? in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: arg.bytes.count + 1)
            for (i, b) in arg.bytes.enumerated() { p[i] = CChar(bitPattern: b) }
            p[arg.bytes.count] = 0
            return p
        } + [nil]
        let cEnv = envStrings.map { strdup($0) } + [nil]
        defer {
            for p in cArgv { p?.deallocate() }
            for p in cEnv { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, program, &actions, &attributes, cArgv, cEnv)
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw CLIHarnessError(description: "posix_spawn \(program): \(String(cString: strerror(rc)))")
        }
        return RunningCLI(pid: pid, outFD: outPipe[0], errFD: errPipe[0])
    }

    /// Whether the process has ended (it is reaped then).
    var hasExited: Bool {
        lock.withLock {
            if exitStatus != nil { return true }
            var status: Int32 = 0
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid { exitStatus = status }
            return exitStatus != nil
        }
    }

    /// Sends `sig` to the process (if it still runs).
    func signal(_ sig: Int32) {
        if !hasExited { kill(pid, sig) }
    }

    /// Waits for the end and returns the status and output. A process still running after
    /// `timeout` seconds is killed (SIGKILL) and reported with status -1: a hang, not a speed limit.
    func finish(timeout: Double = 300) -> CLIResult {
        let deadline = monotonicSeconds() + timeout
        var killed = false
        while !hasExited {
            if monotonicSeconds() > deadline {
                kill(pid, SIGKILL)
                killed = true
                lock.withLock {
                    var status: Int32 = 0
                    _ = waitpid(pid, &status, 0)
                    exitStatus = status
                }
                break
            }
            usleep(10_000)
        }
        let status = lock.withLock { exitStatus ?? 0 }
        let code: Int32
        if killed {
            code = -1
        } else if status & 0x7f == 0 {
            code = (status >> 8) & 0xff
        } else {
            code = 128 + (status & 0x7f)  // ended by a signal, as a shell would report it
        }
        return CLIResult(status: code, stdout: String(decoding: out.wait(), as: UTF8.self),
                         stderr: String(decoding: err.wait(), as: UTF8.self))
    }
}

extension CLI {
    /// Runs `aio-bench` with raw argv bytes, extra environment and a working folder, to the end.
    static func run(raw args: [RawArgument], prefix: [String] = [], environment: [String: String] = [:],
                    currentDirectory: String? = nil) throws -> CLIResult {
        try RunningCLI.start(args, prefix: prefix, environment: environment,
                             currentDirectory: currentDirectory).finish()
    }
}

/// glibc's `posix_spawn` extensions, which Swift's Glibc module does not export (they need
/// `_GNU_SOURCE`), looked up at run time.
private enum SpawnExtras {
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>,
                                         UnsafePointer<CChar>) -> Int32

    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

    static let addCloseFrom: AddCloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
    static let pipe2: Pipe2? = symbol("pipe2")

    /// A pipe whose ends close on exec (`pipe2(O_CLOEXEC)`, else `pipe` and `fcntl`).
    static func closeOnExecPipe(_ fds: inout [Int32]) -> Bool {
        if let pipe2 {
            return fds.withUnsafeMutableBufferPointer { pipe2($0.baseAddress!, O_CLOEXEC) } == 0
        }
        guard pipe(&fds) == 0 else { return false }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return true
    }
    static let addChdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np")

    private static func symbol<T>(_ name: String) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let p = dlsym(handle, name) else { return nil }
        return unsafeBitCast(p, to: T.self)
    }
}
