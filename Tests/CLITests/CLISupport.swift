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
        let process = Process()
        if let first = prefix.first {
            process.executableURL = URL(fileURLWithPath: first)
            process.arguments = Array(prefix.dropFirst()) + [tool.path] + args
        } else {
            process.executableURL = tool
            process.arguments = args
        }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes concurrently so a full pipe never blocks the child.
        let errBox = DataBox()
        let reader = Thread { errBox.set(errPipe.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let err = errBox.wait()
        return CLIResult(status: process.terminationStatus,
                         stdout: String(decoding: out, as: UTF8.self),
                         stderr: String(decoding: err, as: UTF8.self))
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
        let p = Process()
        p.executableURL = URL(fileURLWithPath: setpriv)
        p.arguments = Array(prefix.dropFirst()) + [check, flag, path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else {
            return .failure(CLIHarnessError(description: "cannot start setpriv"))
        }
        p.waitUntilExit()
        if p.terminationStatus != 0 {
            return .failure(CLIHarnessError(description: "user nobody cannot reach \(path)"))
        }
    }
    return .success(prefix)
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
