import Glibc
import AsyncIO
import Foundation
import Testing

/// The typed system layer that the benchmark and the tool use instead of Glibc.
@Suite("System layer")
struct SystemTests {
    @Test("status, directories, listing, removal")
    func filesAndFolders() throws {
        let dir = ScratchFolder("system")
        let sub = dir.file("sub")
        try FileSystem.createDirectory(sub)
        #expect(try FileSystem.status(of: sub).kind == .directory)
        #expect(try FileSystem.status(of: sub).permissions == 0o700)
        let again = #expect(throws: AsyncIOError.self) { try FileSystem.createDirectory(sub) }
        #expect(again?.code == .fileExists)
        #expect(try FileSystem.statusIfPresent(of: dir.file("missing")) == nil)
        let missing = #expect(throws: AsyncIOError.self) { try FileSystem.status(of: dir.file("missing")) }
        #expect(missing?.code == .noSuchFile)
        #expect(missing?.path == dir.file("missing"))

        let file = dir.file("sub/a")
        let atomic = try AtomicFile(replacing: file)
        try atomic.write(Array("hello".utf8))
        try atomic.commit()
        #expect(try FileSystem.text(of: file) == "hello")
        #expect(try FileSystem.status(of: file).permissions == 0o600)
        #expect(try FileSystem.status(of: file).size == 5)
        #expect(try FileSystem.contentsOfDirectory(sub) == ["a"])
        try FileManager.default.createSymbolicLink(atPath: dir.file("link"), withDestinationPath: file)
        #expect(try FileSystem.status(of: dir.file("link"), followLinks: false).kind == .symbolicLink)
        #expect(try FileSystem.status(of: dir.file("link")).kind == .regular)
        #expect(try FileSystem.resolvedPath(dir.file("link")) == FileSystem.resolvedPath(file))
        #expect(!FileSystem.removeEmptyDirectory(sub))
        try FileSystem.removeFile(file)
        #expect(!FileSystem.isAccessible(file))
        #expect(FileSystem.removeEmptyDirectory(sub))
        #expect(!FileSystem.removeFileIfPresent(file))
    }

    @Test("an atomic file that is not committed leaves nothing; one that is replaces the old whole")
    func atomicFile() throws {
        let dir = ScratchFolder("atomic")
        let target = dir.file("log.txt")
        try Data("old".utf8).write(to: URL(fileURLWithPath: target))
        do {
            let atomic = try AtomicFile(replacing: target)
            try atomic.write(Array("half".utf8))
            #expect(FileSystem.isAccessible(atomic.temporaryPath))
        }
        #expect(try FileSystem.contentsOfDirectory(dir.path) == ["log.txt"])
        #expect(try FileSystem.text(of: target) == "old")
        let atomic = try AtomicFile(replacing: target)
        try atomic.write(Array(repeating: 0x41, count: 200_000))
        try atomic.commit()
        #expect(try FileSystem.contents(of: target).count == 200_000)
        #expect(try FileSystem.contentsOfDirectory(dir.path) == ["log.txt"])
        let refused = #expect(throws: AsyncIOError.self) { try AtomicFile(replacing: dir.file("no/such/x")) }
        #expect(refused?.code == .noSuchFile)
    }

    @Test("contents over the limit are refused; files that stat as empty (/proc) are read whole")
    func contents() throws {
        let dir = ScratchFolder("contents")
        let file = dir.file("big")
        try Data(repeating: 7, count: 100).write(to: URL(fileURLWithPath: file))
        #expect(throws: AsyncIOError.self) { try FileSystem.contents(of: file, limit: 99) }
        #expect(try FileSystem.contents(of: file, limit: 100).count == 100)
        #expect(try FileSystem.status(of: "/proc/self/status").size == 0)
        #expect(try FileSystem.text(of: "/proc/self/status").contains("Pid:"))
        #expect(try FileSystem.fileSystemStats(of: dir.path).totalBytes > 0)
        #expect(try FileSystem.fileSystemStats(of: "/dev/shm").isMemoryBacked)
    }

    @Test("child processes: argv untouched, output, status, signals, timeout, missing program")
    func childProcess() throws {
        let echo = try #require(SystemInfo.findExecutable("echo"))
        let printed = try ChildProcess.run(echo, arguments: ["$(touch x)", "a b", "'q'"])
        #expect(printed.succeeded)
        #expect(String(decoding: printed.standardOutput, as: UTF8.self) == "$(touch x) a b 'q'\n")
        let sh = try #require(SystemInfo.findExecutable("sh"))
        let failed = try ChildProcess.run(sh, arguments: ["-c", "echo oops >&2; exit 3"])
        #expect(failed.termination == .exited(3))
        #expect(String(decoding: failed.standardError, as: UTF8.self) == "oops\n")
        let killed = try ChildProcess.run(sh, arguments: ["-c", "kill -TERM $$"])
        #expect(killed.termination == .signaled(15))
        let slow = try ChildProcess.run(sh, arguments: ["-c", "sleep 30"], timeout: .milliseconds(200))
        #expect(slow.termination == .timedOut)
        let missing = #expect(throws: AsyncIOError.self) {
            try ChildProcess.run("/nonexistent/program", arguments: [])
        }
        #expect(missing?.code == .noSuchFile)
        #expect(SystemInfo.findExecutable("no-such-program-here") == nil)
    }

    /// More on stderr than a pipe holds, while stdout is still open: both are drained at once.
    @Test("a child that fills standard error while standard output is open does not stall")
    func childFillsStderr() throws {
        let script = "head -c 300000 /dev/zero | tr '\\0' x >&2; echo done"
        let run = try ChildProcess.run("/bin/sh", arguments: ["-c", script])
        #expect(run.succeeded)
        #expect(String(decoding: run.standardOutput, as: UTF8.self) == "done\n")
        #expect(run.standardError.count == 300_000)
    }

    @Test("programs are found on the search path in order, executable files only")
    func programSearch() throws {
        let first = ScratchFolder("first")
        let second = ScratchFolder("second")
        let plain = first.file("prog")
        #expect(FileManager.default.createFile(atPath: plain, contents: Data("#!/bin/sh\n".utf8),
                                               attributes: [.posixPermissions: 0o644]))
        let executable = second.file("prog")
        #expect(FileManager.default.createFile(atPath: executable, contents: Data("#!/bin/sh\n".utf8),
                                               attributes: [.posixPermissions: 0o755]))
        let path = "/nonexistent::\(first.path):\(second.path)"
        #expect(SystemInfo.findExecutable("prog", searchPath: path) == executable)
        #expect(SystemInfo.findExecutable("no-such-program-here", searchPath: path) == nil)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: plain)
        #expect(SystemInfo.findExecutable("prog", searchPath: path) == plain)
        #expect(SystemInfo.findExecutable("sh", searchPath: "/nonexistent:/bin") == "/bin/sh")
    }

    /// Enough open descriptors that `/proc/self/fd` fills readdir's 32 KiB buffer, where copying an
    /// entry's 256-byte `d_name` field read past its end (AddressSanitizer: heap-buffer-overflow).
    static let manyDescriptors = 1_600
    /// The soft limit on open descriptors.
    static let descriptorLimit: Int = {
        var limit = rlimit()
        return getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(clamping: limit.rlim_cur) : 0
    }()

    @Test("listing /proc/self/fd with 1,600 descriptors open: every name read in place",
          .enabled(if: SystemTests.descriptorLimit > SystemTests.manyDescriptors + 400,
                   "the open-file limit is below 2,000 descriptors"))
    func manyDescriptorEntries() throws {
        let dir = ScratchFolder("many-fds")
        let path = dir.file("f")
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let handles = try (0..<Self.manyDescriptors).map { _ in try FileHandle(forReadingFrom: URL(fileURLWithPath: path)) }
        defer { for h in handles { try? h.close() } }
        let targets = SystemInfo.openDescriptorTargets()
        #expect(targets.filter { $0 == path }.count == Self.manyDescriptors)
        let names = try FileSystem.contentsOfDirectory("/proc/self/fd")
        #expect(names.count >= Self.manyDescriptors)
        #expect(names.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }, "\(names.filter { !$0.allSatisfy(\.isNumber) })")
    }

    @Test("machine facts")
    func machine() {
        #expect(!SystemInfo.kernelRelease.isEmpty && SystemInfo.kernelRelease != "unknown")
        #expect(SystemInfo.processorCount >= 1)
        #expect(SystemInfo.environment("PATH") != nil)
        #expect(SystemInfo.environment("SURELY_NOT_SET_ANYWHERE_42") == nil)
        #expect(SystemInfo.rawArguments().count == CommandLine.arguments.count - 1)
    }

    @Test("the creation gate returns the body's value and is released after it (closing does not block)")
    func gate() {
        let gate = CreationGate()
        #expect(gate.pass { 41 + 1 } == 42)
        gate.closeForever()
    }
}
