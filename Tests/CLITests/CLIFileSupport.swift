import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

// Scratch folders, listings, dropping root, and the assertions on a run of `aio-bench`.

/// A fresh folder under `NSTemporaryDirectory()`, removed with everything in it by `remove()`.
final class ScratchFolder: Sendable {
    let path: String

    /// Creates `aio-bench-<label>-<pid>-<random>` in `parent` (default: `NSTemporaryDirectory()`).
    init(_ label: String = "cli", in parent: String = NSTemporaryDirectory()) throws {
        let base = (parent as NSString)
            .appendingPathComponent("aio-bench-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        path = base
    }

    /// A sub-folder (created), e.g. one with an awkward name.
    func folder(_ name: String, mode: Int = 0o755) throws -> String {
        let p = (path as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: mode])
        return p
    }

    /// A path inside the folder (not created).
    func child(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Removes the folder, restoring write permission first where a test took it away.
    func remove() {
        if let walker = FileManager.default.enumerator(atPath: path) {
            for case let rel as String in walker {
                let p = (path as NSString).appendingPathComponent(rel)
                var st = stat()
                if lstat(p, &st) == 0, st.st_mode & S_IFMT == S_IFDIR { chmod(p, 0o755) }
            }
        }
        try? FileManager.default.removeItem(atPath: path)
    }

    deinit { remove() }
}

/// Every path under `folder` (recursive, relative), sorted; empty when the folder is missing.
func listing(_ folder: String) -> [String] {
    var result: [String] = []
    var stack = [""]
    while let rel = stack.popLast() {
        let dir = rel.isEmpty ? folder : (folder as NSString).appendingPathComponent(rel)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
        for name in names {
            let r = rel.isEmpty ? name : (rel as NSString).appendingPathComponent(name)
            result.append(r)
            var st = stat()
            let full = (folder as NSString).appendingPathComponent(r)
            if lstat(full, &st) == 0, st.st_mode & S_IFMT == S_IFDIR { stack.append(r) }
        }
    }
    return result.sorted()
}

/// Size of a file (following no links), or nil.
func fileSize(_ path: String) -> Int? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    return Int(st.st_size)
}

/// Whether the tests run as root (permission bits do not stop root).
var runningAsRoot: Bool { geteuid() == 0 }

/// The argv prefix that runs a program as `nobody` through `setpriv`, or why that is not possible.
///
/// - Parameter folder: a folder `nobody` must be able to enter (besides running `aio-bench`).
func dropRootPrefix(reaching folder: String) -> Result<[String], CLIHarnessError> {
    guard let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first(where: FileManager.default.isExecutableFile)
    else { return .failure(CLIHarnessError(description: "no setpriv to drop root")) }
    let prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    guard let tool = try? CLI.binary(),
          let check = ["/usr/bin/test", "/bin/test"].first(where: FileManager.default.isExecutableFile)
    else { return .failure(CLIHarnessError(description: "no aio-bench or no test(1)")) }
    for (flag, path) in [("-x", tool.path), ("-x", folder)] {
        guard let p = try? CLI.runProgram(prefix + [check, flag, path]) else {
            return .failure(CLIHarnessError(description: "cannot start setpriv"))
        }
        if p.status != 0 {
            return .failure(CLIHarnessError(description: "user nobody cannot reach \(path)"))
        }
    }
    return .success(prefix)
}

/// Whether permission bits stop a run of `aio-bench` here: when not root, or when root can run it as
/// `nobody` through `setpriv`. Probed once, when a test that needs it is about to run.
enum PermissionProbe {
    /// Why permission bits do not apply to a run here, or nil when they do.
    static let refusal: String? = {
        guard runningAsRoot else { return nil }
        switch dropRootPrefix(reaching: NSTemporaryDirectory()) {
        case .success: return nil
        case .failure(let why): return "running as root (permission bits do not apply) and \(why)"
        }
    }()

    /// Whether permission bits apply to a run here.
    static var permissionsApply: Bool { refusal == nil }

    /// The reason shown when a test that needs permission bits is skipped.
    static let skipReason = Comment(rawValue: "running as root, where permission bits do not apply, and aio-bench "
        + "cannot be run as nobody (no setpriv, or nobody cannot reach it or the temporary folder)")

    /// The argv prefix under which permission bits apply to a run that must reach `folder`: none when not
    /// root, else `setpriv` to `nobody`. Throws, failing the test, when that cannot be done.
    static func prefix(reaching folder: String) throws -> [String] {
        guard runningAsRoot else { return [] }
        return try dropRootPrefix(reaching: folder).get()
    }
}

/// Whether `folder` accepts `O_DIRECT` (tmpfs does from Linux 6.6).
func supportsDirectIO(_ folder: String) -> Bool {
    // Glibc does not export O_DIRECT to Swift (it needs _GNU_SOURCE).
    #if arch(arm64) || arch(arm)
    let oDirect: Int32 = 0o200000
    #else
    let oDirect: Int32 = 0o40000
    #endif
    let path = (folder as NSString).appendingPathComponent(".aio-bench-cli-probe-\(getpid())")
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | oDirect, 0o600)
    if fd >= 0 {
        close(fd)
        unlink(path)
        return true
    }
    unlink(path)
    return false
}

// MARK: - Assertions

private let crashMarkers = ["Fatal error", "Stack dump", "backtrace", "Backtrace", "Current stack trace",
                            "Illegal instruction", "Segmentation fault", "Thread 0 crashed", "💣"]

/// A failure: `status`, exactly one non-empty `aio-bench: ` line on stderr, no crash text.
func expectFailure(_ r: CLIResult, status: Int32, mentioning needles: [String] = [],
                   sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == status, "\(r)", sourceLocation: sourceLocation)
    let lines = r.stderrLines
    #expect(lines.count == 1, "stderr must be exactly one line: \(r)", sourceLocation: sourceLocation)
    #expect(r.stderr.hasSuffix("\n"), "stderr must end with a newline: \(r)", sourceLocation: sourceLocation)
    if let line = lines.first {
        #expect(line.hasPrefix("aio-bench: "), "\(r)", sourceLocation: sourceLocation)
        #expect(line.count > "aio-bench: ".count + 5, "\(r)", sourceLocation: sourceLocation)
    }
    for marker in crashMarkers {
        #expect(!r.stderr.contains(marker), "crash text '\(marker)': \(r)", sourceLocation: sourceLocation)
    }
    for needle in needles {
        #expect(r.stderr.contains(needle), "stderr should mention '\(needle)': \(r)", sourceLocation: sourceLocation)
    }
}

/// A usage failure (exit 64).
func expectUsage(_ r: CLIResult, mentioning needles: [String] = [],
                 sourceLocation: SourceLocation = #_sourceLocation) {
    expectFailure(r, status: 64, mentioning: needles, sourceLocation: sourceLocation)
}

/// A runtime failure (exit 1).
func expectRuntime(_ r: CLIResult, mentioning needles: [String] = [],
                   sourceLocation: SourceLocation = #_sourceLocation) {
    expectFailure(r, status: 1, mentioning: needles, sourceLocation: sourceLocation)
}

/// Success: exit 0, no crash text, and DeepSpeed's four result lines for `operation`.
func expectSuccess(_ r: CLIResult, operation: String = "Read",
                   sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == 0, "\(r)", sourceLocation: sourceLocation)
    for marker in crashMarkers {
        #expect(!r.stderr.contains(marker), "crash text '\(marker)': \(r)", sourceLocation: sourceLocation)
    }
    let lines = r.stdout.split(separator: "\n").map(String.init)
    let number = "[0-9.eE+-]+"
    let patterns = [
        "^Task \(operation) Latency = \(number) sec$",
        "^Task \(operation) Speed = \(number) GB/sec$",
        "^E2E \(operation) Latency = \(number) sec$",
        "^E2E (Read|Write) Speed = \(number) GB/sec$",
    ]
    for pattern in patterns {
        let regex = try? NSRegularExpression(pattern: pattern)
        let found = lines.contains { line in
            regex?.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
        }
        #expect(found, "stdout has no line matching \(pattern): \(r)", sourceLocation: sourceLocation)
    }
    #expect(lines.contains { $0.hasPrefix("E2E \(operation) Speed = ") }, "\(r)", sourceLocation: sourceLocation)
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Polls `condition` every `interval` microseconds until it holds or `timeout` seconds pass;
/// returns whether it held. A bound against hangs, not a speed assertion.
func waitUntil(timeout: Double = 120, interval: UInt32 = 10_000, _ condition: () -> Bool) -> Bool {
    let deadline = monotonicSeconds() + timeout
    while monotonicSeconds() < deadline {
        if condition() { return true }
        usleep(interval)
    }
    return condition()
}
