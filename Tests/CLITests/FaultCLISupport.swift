@testable import AIOBench
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

// Helpers of FaultCLITests: sweeps to interrupt, loop-mounted file systems, /proc numbers.

/// Writes a sweep config into `scratch` and returns its path.
func writeSweepConfig(_ scratch: ScratchFolder, _ json: String, name: String = "sweep.json") throws -> String {
    let path = scratch.child(name)
    guard FileManager.default.createFile(atPath: path, contents: Data(json.utf8)) else {
        throw CLIHarnessError(description: "cannot write \(path)")
    }
    return path
}

/// A sweep of 8 configurations × read and write (16 logs) with enough work per configuration
/// (128 MiB, two loops) to be interrupted in the middle.
struct LongSweep {
    let data: String
    let logs: String
    let config: String

    init(_ scratch: ScratchFolder, open: Bool = false) throws {
        data = try scratch.folder("data", mode: open ? 0o777 : 0o755)
        if open { chmod(data, 0o777) }
        logs = scratch.child("logs")
        config = try writeSweepConfig(
            scratch, #"{"block_size": ["128K", "256K"], "queue_depth": [4, 8], "io_parallel": [1, 2]}"#)
    }

    var args: [String] { args(ioSize: "128M", logDir: logs) }

    func args(ioSize: String, logDir: String) -> [String] {
        ["sweep", "--nvme_dir", data, "--sweep_config", config, "--io_size", ioSize, "--loops", "2",
         "--trials", "1", "--log_dir", logDir, "--quiet"]
    }

    /// Names of finished read and write logs (temporary files start with a dot).
    func completeLogNames(in root: String? = nil) -> [String] {
        let base = root ?? logs
        return ["_aio_bench_read_logs", "_aio_bench_write_logs"].flatMap { sub in
            ((try? FileManager.default.contentsOfDirectory(atPath: base + "/" + sub)) ?? [])
                .filter { !$0.hasPrefix(".") }.map { sub + "/" + $0 }
        }
    }

    /// Every file in the log folders, checked: a `.txt` log (no temporary or other files) that
    /// parses with a metric, one trial and no error. Returns name → contents.
    func checkedLogs(in root: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> [String: Data] {
        let base = root ?? logs
        var result: [String: Data] = [:]
        for sub in ["_aio_bench_read_logs", "_aio_bench_write_logs"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: base + "/" + sub)) ?? []
            for name in names {
                let path = base + "/" + sub + "/" + name
                #expect(name.hasSuffix(".txt") && !name.hasPrefix("."), "not a log: \(path)",
                        sourceLocation: sourceLocation)
                guard let data = FileManager.default.contents(atPath: path) else {
                    Issue.record("cannot read \(path)", sourceLocation: sourceLocation)
                    continue
                }
                let log = LogParser.parse(String(decoding: data, as: UTF8.self),
                                          operation: sub.contains("read") ? .read : .write)
                #expect(log.metric != nil && log.error == nil && log.trialResults.count == 1,
                        "incomplete log \(path): \(String(decoding: data, as: UTF8.self))",
                        sourceLocation: sourceLocation)
                result[sub + "/" + name] = data
            }
        }
        return result
    }

    /// The manifest is whole JSON and describes this sweep.
    func checkManifest(sourceLocation: SourceLocation = #_sourceLocation) {
        let path = logs + "/manifest.json"
        let object = FileManager.default.contents(atPath: path)
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        #expect(object?["configurations"] as? Int == 8, "manifest: \(String(describing: object))",
                sourceLocation: sourceLocation)
        #expect(object?["io_size"] as? String == String(128 << 20), sourceLocation: sourceLocation)
        #expect(object?["folders"] as? [String] == [data], sourceLocation: sourceLocation)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: logs)) ?? []).sorted()
        #expect(names == ["_aio_bench_read_logs", "_aio_bench_write_logs", "manifest.json"], "\(names)",
                sourceLocation: sourceLocation)
    }
}

/// A small ext4 file system in an image file, attached to a loop device and mounted inside a
/// scratch folder. `remove()` unmounts, detaches and deletes the image (call it in `defer`).
final class LoopFilesystem: @unchecked Sendable {
    let image: String
    let mountPoint: String
    let device: String
    private var removed = false

    private init(image: String, mountPoint: String, device: String) {
        self.image = image
        self.mountPoint = mountPoint
        self.device = device
    }

    /// Whether one can be made here: tried once, for real, when a test that needs it is about to run
    /// (a container may have every tool and still be refused the mount).
    static let works: Bool = {
        guard let scratch = try? ScratchFolder("loopfs-probe") else { return false }
        defer { scratch.remove() }
        guard case .success(let fs) = make(in: scratch, megabytes: 24) else { return false }
        fs.remove()
        return true
    }()

    /// The reason shown when a test that needs one is skipped.
    static let skipReason = Comment(rawValue: "cannot mount a small ext4 file system here (needs root, "
        + "mkfs.ext4, losetup, mount, umount and a free loop device)")

    /// Creates one, or says why it cannot be done here (not root, tools or loop devices missing).
    static func make(in scratch: ScratchFolder, megabytes: Int) -> Result<LoopFilesystem, CLIHarnessError> {
        guard runningAsRoot else { return .failure(CLIHarnessError(description: "needs root to mount a file system")) }
        guard let mkfs = tool("mkfs.ext4"), let losetup = tool("losetup"), let mount = tool("mount"),
              tool("umount") != nil else {
            return .failure(CLIHarnessError(description: "mkfs.ext4, losetup, mount or umount is missing"))
        }
        let image = scratch.child("fs.img")
        let mountPoint = scratch.child("mnt")
        guard FileManager.default.createFile(atPath: image, contents: nil), truncate(image, off_t(megabytes << 20)) == 0
        else { return .failure(CLIHarnessError(description: "cannot create \(image)")) }
        let format = runTool([mkfs, "-q", "-F", image])
        guard format.status == 0 else {
            unlink(image)
            return .failure(CLIHarnessError(description: "mkfs.ext4 failed: \(format.output)"))
        }
        let attach = runTool([losetup, "--find", "--show", image])
        let device = attach.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard attach.status == 0, device.hasPrefix("/dev/") else {
            unlink(image)
            return .failure(CLIHarnessError(description: "no loop device: \(attach.output)"))
        }
        let fs = LoopFilesystem(image: image, mountPoint: mountPoint, device: device)
        guard mkdir(mountPoint, 0o755) == 0 else {
            fs.remove()
            return .failure(CLIHarnessError(description: "cannot create \(mountPoint)"))
        }
        let mounted = runTool([mount, "-t", "ext4", device, mountPoint])
        guard mounted.status == 0 else {
            fs.remove()
            return .failure(CLIHarnessError(description: "mount failed: \(mounted.output)"))
        }
        return .success(fs)
    }

    /// Free bytes as root sees them (root may use the reserved blocks).
    var freeBytes: Int {
        var st = statvfs()
        guard statvfs(mountPoint, &st) == 0 else { return 0 }
        return Int(st.f_bfree) * Int(st.f_frsize)
    }

    /// Unmounts, detaches and deletes; safe to call twice.
    func remove() {
        guard !removed else { return }
        removed = true
        if let umount = LoopFilesystem.tool("umount") {
            var tries = 0
            while isMounted && tries < 50 {
                _ = runTool([umount, mountPoint])
                if isMounted { usleep(100_000) }
                tries += 1
            }
            if isMounted { _ = runTool([umount, "-l", mountPoint]) }
        }
        if let losetup = LoopFilesystem.tool("losetup") { _ = runTool([losetup, "-d", device]) }
        rmdir(mountPoint)
        unlink(image)
    }

    private var isMounted: Bool {
        let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
        return mounts.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first == Substring(mountPoint) }
    }

    static func tool(_ name: String) -> String? {
        ["/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"].map { $0 + name }.first(where: FileManager.default.isExecutableFile)
    }
}

/// Runs a system tool from an argv array (no shell); returns its status and combined output.
func runTool(_ argv: [String]) -> (status: Int32, output: String) {
    guard let r = try? CLI.runProgram(argv) else { return (-1, "cannot start \(argv[0])") }
    return (r.status, r.stdout + r.stderr)
}

/// Whether process `pid` has `path` open (from /proc/<pid>/fd).
func processHasOpen(_ pid: pid_t, _ path: String) -> Bool {
    let dir = "/proc/\(pid)/fd"
    guard let fds = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return false }
    return fds.contains { (try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/" + $0)) == path }
}

/// A number from a /proc file.
func readNumber(_ path: String) -> Int? {
    (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
}

/// Writes a number to a /proc file (plain open and write: /proc takes no temporary file).
func writeNumber(_ path: String, _ value: Int) -> Bool {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let text = Array("\(value)\n".utf8)
    return text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == text.count
}

/// Whether `fs.aio-max-nr` can be lowered for a while here: root, both sysctl files, room for the test's
/// limit (`fs.aio-nr` + 8192 below 32768), and kernel AIO working at all. Probed once, for real.
enum AIOLimitProbe {
    static let maxPath = "/proc/sys/fs/aio-max-nr"
    static let inUsePath = "/proc/sys/fs/aio-nr"

    /// The reason shown when the test is skipped.
    static let skipReason = Comment(rawValue: "needs root, a writable \(maxPath), fs.aio-nr below 24576 "
        + "and kernel AIO that works here")

    static let usable: Bool = {
        guard runningAsRoot, access(maxPath, W_OK) == 0, readNumber(maxPath) != nil,
              let inUse = readNumber(inUsePath), inUse + 8192 < 32768,
              let scratch = try? ScratchFolder("aiomax-probe") else { return false }
        defer { scratch.remove() }
        return (try? CLI.run(raw: smallRun(in: scratch) + ["--engine", "aio"]))?.status == 0
    }()

    /// Lowers `fs.aio-max-nr` to what is in use plus `room` for the time of `body` (given the new
    /// limit and what was in use), restoring it in every case, and checking that it was restored.
    /// Holds an exclusive `flock` on the file meanwhile, so two such tests never run at once: each
    /// would restore the value the other had set.
    static func withLimitLowered(room: Int, _ body: (_ limit: Int, _ inUse: Int) throws -> Void) throws {
        let fd = open(maxPath, O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0, "cannot open \(maxPath)")
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 { try #require(errno == EINTR, "flock \(maxPath): errno \(errno)") }
        defer { flock(fd, LOCK_UN) }
        let original = try #require(readNumber(maxPath))
        let inUse = try #require(readNumber(inUsePath))
        try #require(writeNumber(maxPath, inUse + room), "cannot write \(maxPath)")
        defer {
            let restored = writeNumber(maxPath, original)
            #expect(restored && readNumber(maxPath) == original, "fs.aio-max-nr must be restored to \(original)")
        }
        try body(inUse + room, inUse)
    }

    /// `io` of 1 MiB in 4 KiB blocks in `scratch`.
    static func smallRun(in scratch: ScratchFolder) -> [RawArgument] {
        ["io", "--folder", RawArgument(scratch.path), "--io_size", "1M", "--block_size", "4K"]
    }
}
