@testable import AIOBench
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `aio-bench` under faults: a full file system, signals, a log folder that goes away,
/// a read file cut short by another process, and engines or page locking the system refuses.
///
/// Every case checks the same promises: the failure is one clear line (or the fallback is
/// reported), partial test files are removed, finished logs stay complete, the exit status says
/// what happened, and running the same command again finishes the rest.
@Suite("aio-bench under faults")
struct FaultCLITests {
    static let mib = 1 << 20

    // MARK: - ENOSPC

    /// `io` on a 24 MiB ext4 file system with an io_size larger than its free space: the write
    /// (and the creation of a read file) fails with ENOSPC, nothing is left, the space comes back.
    @Test(.enabled(if: LoopFilesystem.works, LoopFilesystem.skipReason))
    func enospcDuringIO() throws {
        let scratch = try ScratchFolder("enospc-io")
        defer { scratch.remove() }
        let fs = try LoopFilesystem.make(in: scratch, megabytes: 24).get()
        defer { fs.remove() }
        let free = fs.freeBytes
        let before = listing(fs.mountPoint)
        let tooBig = (free / Self.mib + 4) * Self.mib
        for extra in [[], ["--read"]] {
            let r = try CLI.io(["--folder", fs.mountPoint, "--io_size", "\(tooBig / Self.mib)M"] + extra)
            let name = extra.isEmpty ? "_aio_write_\(tooBig).pt.0" : "_aio_read_\(tooBig).pt.0"
            expectRuntime(r, mentioning: ["ENOSPC", name])
            #expect(listing(fs.mountPoint) == before, "partial file left: \(listing(fs.mountPoint))")
            // The blocks of the partial file are given back (allow for a little metadata).
            #expect(fs.freeBytes >= free - 256 << 10, "free space \(fs.freeBytes) of \(free) before")
        }
        // The file system is usable afterwards, and a run that fits works.
        expectSuccess(try CLI.io(["--folder", fs.mountPoint, "--io_size", "2M"]), operation: "Write")
        #expect(listing(fs.mountPoint) == before)
    }

    /// A sweep whose io_size fits for the read file but not for a write file next to it: the
    /// reads finish, the first write fails with ENOSPC, the sweep stops with one line and exit 1,
    /// test files are removed and the read logs stay complete. After the space is freed, the same
    /// command resumes: the read logs are kept as they were and the writes run.
    @Test(.enabled(if: LoopFilesystem.works, LoopFilesystem.skipReason))
    func enospcMidSweep() throws {
        let scratch = try ScratchFolder("enospc-sweep")
        defer { scratch.remove() }
        let fs = try LoopFilesystem.make(in: scratch, megabytes: 24).get()
        defer { fs.remove() }
        let ioSize = 4 * Self.mib
        // Leave room for the read file and half a write file.
        let filler = (fs.mountPoint as NSString).appendingPathComponent("filler")
        let fillerBytes = (fs.freeBytes - ioSize - ioSize / 2) / 65536 * 65536
        #expect(fillerBytes > 0)
        #expect(FileManager.default.createFile(atPath: filler, contents: Data(count: fillerBytes)))
        let before = listing(fs.mountPoint)
        let config = try writeSweepConfig(scratch, #"{"block_size": ["128K"], "queue_depth": [4, 8], "io_parallel": [1]}"#)
        let logs = scratch.child("logs")
        let args = ["sweep", "--nvme_dir", fs.mountPoint, "--sweep_config", config, "--io_size", "4M",
                    "--trials", "1", "--log_dir", logs, "--quiet"]
        let r = try CLI.run(args)
        expectRuntime(r, mentioning: ["ENOSPC", "sweep stopped", "resume"])
        #expect(listing(fs.mountPoint) == before, "test files left: \(listing(fs.mountPoint))")
        let first = try LogParser.parseFolder(logs)
        let reads = first.records(for: .read)
        #expect(reads.count == 2 && reads.allSatisfy { $0.metric != nil && $0.log.error == nil }, "\(reads)")
        let writes = first.records(for: .write)
        #expect(writes.count == 1, "the sweep stops at the first write")
        #expect(writes.allSatisfy { $0.metric == nil && $0.log.error?.contains("ENOSPC") == true })
        let readTexts = reads.map { FileManager.default.contents(atPath: $0.path) }

        // Free the space; the same command finishes the rest.
        #expect(unlink(filler) == 0)
        let again = try CLI.run(args)
        #expect(again.status == 0, "\(again)")
        #expect(listing(fs.mountPoint) == ["lost+found"])
        let done = try LogParser.parseFolder(logs)
        #expect(done.records.count == 4)
        #expect(done.records.allSatisfy { $0.metric != nil && $0.log.error == nil })
        #expect(done.records(for: .read).map { FileManager.default.contents(atPath: $0.path) } == readTexts,
                "complete read logs are kept, not run again")
    }

    // MARK: - Signals

    /// SIGINT or SIGTERM in the middle of a 16-log sweep: exit 128 + signal, no test files, only
    /// complete logs (no temporary files), a consistent manifest; the same command then finishes
    /// the rest, keeping the logs that were done, and ends with the logs an uninterrupted sweep has.
    @Test(arguments: [SIGINT, SIGTERM])
    func signalMidSweep(_ sig: Int32) throws {
        let scratch = try ScratchFolder("sig")
        defer { scratch.remove() }
        let sweep = try LongSweep(scratch)
        let running = try RunningCLI.start(sweep.args.map { RawArgument($0) })
        let progressed = waitUntil { running.hasExited || sweep.completeLogNames().count >= 2 }
        #expect(progressed, "no log appeared")
        #expect(!running.hasExited, "the sweep ended before the signal; give it more work")
        running.signal(sig)
        let r = running.finish()
        #expect(r.status == 128 + sig, "\(r)")
        #expect(r.stderr.contains(sig == SIGINT ? "interrupted" : "terminated"), "\(r)")
        #expect(listing(sweep.data).isEmpty, "test files left: \(listing(sweep.data))")
        let kept = sweep.checkedLogs()
        #expect(kept.count >= 2 && kept.count < 16, "\(kept.keys.sorted())")
        sweep.checkManifest()

        let again = try CLI.run(sweep.args)
        #expect(again.status == 0, "\(again)")
        #expect(again.stderr.isEmpty, "\(again)")
        #expect(listing(sweep.data).isEmpty)
        let final = sweep.checkedLogs()
        for (name, text) in kept {
            #expect(final[name] == text, "\(name) was complete and must be kept as it was")
        }
        // What an uninterrupted sweep of the same space writes (smaller io_size, same names).
        let reference = scratch.child("reference-logs")
        let whole = try CLI.run(sweep.args(ioSize: "1M", logDir: reference))
        #expect(whole.status == 0, "\(whole)")
        let expected = sweep.checkedLogs(in: reference)
        #expect(expected.count == 16)
        #expect(Set(final.keys) == Set(expected.keys))
    }

    // MARK: - The log folder goes away or becomes read-only

    @Test func logFolderDeleted() throws {
        try logFolderLost("deleted")
    }

    @Test(.enabled(if: PermissionProbe.permissionsApply, PermissionProbe.skipReason))
    func logFolderReadOnly() throws {
        try logFolderLost("read-only")
    }

    /// The log folder is deleted, or made read-only, while the sweep runs: one error line, exit
    /// 1, test files removed.
    private func logFolderLost(_ how: String) throws {
        let scratch = try ScratchFolder("logdir")
        defer { scratch.remove() }
        var prefix: [String] = []
        if how == "read-only" {
            // Permission bits do not stop root: run the sweep as nobody.
            chmod(scratch.path, 0o777)
            prefix = try PermissionProbe.prefix(reaching: scratch.path)
        }
        let sweep = try LongSweep(scratch, open: how == "read-only")
        let running = try RunningCLI.start(sweep.args.map { RawArgument($0) }, prefix: prefix)
        let progressed = waitUntil { running.hasExited || sweep.completeLogNames().count >= 2 }
        #expect(progressed && !running.hasExited, "the sweep ended before the log folder went away")
        if how == "deleted" {
            // Retry: the sweep may create a temporary log file while the folder is removed.
            _ = waitUntil(timeout: 30) {
                try? FileManager.default.removeItem(atPath: sweep.logs)
                return !FileManager.default.fileExists(atPath: sweep.logs)
            }
        } else {
            for folder in [sweep.logs + "/_aio_bench_read_logs", sweep.logs + "/_aio_bench_write_logs", sweep.logs] {
                chmod(folder, 0o555)
            }
        }
        let r = running.finish()
        expectRuntime(r, mentioning: [how == "deleted" ? "No such file or directory" : "Permission denied",
                                      sweep.logs])
        #expect(listing(sweep.data).isEmpty, "test files left: \(listing(sweep.data))")
    }

    // MARK: - A read file cut short by another process

    /// `io --read` over many loops while the test truncates the read file: the run stops with
    /// one line naming the file (the file is shorter than io_size), never reads stale data or
    /// crashes. The file was the user's (the right size already), so it is left where it was.
    @Test func readFileTruncatedWhileRunning() throws {
        let scratch = try ScratchFolder("trunc")
        defer { scratch.remove() }
        let size = 16 * Self.mib
        let name = "_aio_read_\(size).pt.0"
        let file = scratch.child(name)
        var bytes = [UInt8](repeating: 0, count: size)
        for i in stride(from: 0, to: size, by: 8) { bytes[i] = UInt8(truncatingIfNeeded: i >> 3) }
        #expect(FileManager.default.createFile(atPath: file, contents: Data(bytes)))
        let running = try RunningCLI.start(["io", "--folder", RawArgument(scratch.path), "--io_size", "16M",
                                            "--read", "--loops", "100000"])
        // The run has the file open once it is in its loops (it was not created by the run).
        let opened = waitUntil(interval: 1000) { running.hasExited || processHasOpen(running.pid, file) }
        #expect(opened && !running.hasExited, "the run never opened the read file")
        #expect(truncate(file, off_t(size / 2)) == 0)
        let r = running.finish()
        expectRuntime(r, mentioning: [name, "shorter"])
        #expect(fileSize(file) == size / 2)
    }

    // MARK: - Engines and page locking refused

    /// io_uring refused (as by seccomp or `kernel.io_uring_disabled`): `auto` falls back to
    /// kernel AIO and says so; with both refused, to POSIX. A sweep notes the fallback.
    @Test func ioUringRefused() throws {
        let scratch = try ScratchFolder("refuse")
        defer { scratch.remove() }
        let variable = "AIO_BENCH_REFUSE_ENGINES"
        let aio = try CLI.run(raw: ["io", "--folder", RawArgument(scratch.path), "--io_size", "2M"],
                              environment: [variable: "io_uring"])
        expectSuccess(aio, operation: "Write")
        #expect(engineLine(aio)?.contains("kernel AIO") == true, "\(aio)")
        #expect(aio.stdout.contains("  skipped io_uring: refused by \(variable)"), "\(aio)")
        let posix = try CLI.run(raw: ["io", "--folder", RawArgument(scratch.path), "--io_size", "2M", "--read"],
                                environment: [variable: "io_uring,aio"])
        expectSuccess(posix, operation: "Read")
        #expect(engineLine(posix)?.contains("POSIX") == true, "\(posix)")
        #expect(posix.stdout.contains("  skipped io_uring: refused"), "\(posix)")
        #expect(posix.stdout.contains("  skipped aio: refused"), "\(posix)")
        #expect(listing(scratch.path).isEmpty)

        let config = try writeSweepConfig(scratch, #"{"block_size": ["256K"], "queue_depth": [4], "io_parallel": [1]}"#)
        let data = try scratch.folder("data")
        let logs = scratch.child("logs")
        let sweep = try CLI.run(raw: ["sweep", "--nvme_dir", RawArgument(data), "--sweep_config", RawArgument(config),
                                      "--io_size", "2M", "--trials", "1", "--log_dir", RawArgument(logs)],
                                environment: [variable: "io_uring"])
        #expect(sweep.status == 0, "\(sweep)")
        #expect(sweep.stderr.contains("engine aio (skipped io_uring: refused by \(variable))"), "\(sweep)")
        let folder = try LogParser.parseFolder(logs)
        #expect(folder.records.count == 2 && folder.records.allSatisfy { $0.log.engine == "aio" })
    }

    /// Kernel AIO exhausted: as root, `fs.aio-max-nr` is lowered so that the run's context cannot
    /// be had (restored in every case). `--engine aio` fails with one line naming the sysctl;
    /// `auto` (io_uring refused) falls back to POSIX and reports why.
    ///
    /// The limit goes to the current `fs.aio-nr` plus 8192, not to `aio-nr` itself, and the run asks
    /// for one context of 32768 requests: other tests of this process (and of others) keep working
    /// meanwhile, while `io_setup(32768)` fails with EAGAIN exactly as on an exhausted system.
    @Test(.enabled(if: AIOLimitProbe.usable, AIOLimitProbe.skipReason))
    func kernelAIOExhausted() throws {
        try AIOLimitProbe.withLimitLowered(room: 8192) { limit, inUse in
            try #require(limit < 32768, "fs.aio-nr is \(inUse), too high to leave others room")
            let scratch = try ScratchFolder("aiomax")
            defer { scratch.remove() }
            try kernelAIOExhausted(base: AIOLimitProbe.smallRun(in: scratch), scratch: scratch)
        }
    }

    private func kernelAIOExhausted(base: [RawArgument], scratch: ScratchFolder) throws {
        let deep: [RawArgument] = base + ["--queue_depth", "32768"]
        let explicit = try CLI.run(raw: deep + ["--engine", "aio"])
        expectRuntime(explicit, mentioning: ["io_setup", "EAGAIN", "fs.aio-max-nr"])
        let fallback = try CLI.run(raw: deep, environment: ["AIO_BENCH_REFUSE_ENGINES": "io_uring"])
        expectSuccess(fallback, operation: "Write")
        #expect(engineLine(fallback)?.contains("POSIX") == true, "\(fallback)")
        #expect(fallback.stdout.contains("  skipped aio: io_setup(32768)"), "\(fallback)")
        #expect(fallback.stdout.contains("fs.aio-max-nr"), "\(fallback)")
        #expect(listing(scratch.path).isEmpty)
    }

    /// Page locking refused (a 64 KiB RLIMIT_MEMLOCK, and not root, which could lock anyway):
    /// the run goes on with unlocked buffers, says so in one warning line and in the summary.
    static let prlimit = ["/usr/bin/prlimit", "/bin/prlimit"].first(where: FileManager.default.isExecutableFile)

    @Test(.enabled(if: prlimit != nil, "no prlimit here"),
          .enabled(if: PermissionProbe.permissionsApply, PermissionProbe.skipReason))
    func pageLockingRefused() throws {
        let scratch = try ScratchFolder("memlock")
        defer { scratch.remove() }
        let folder = try scratch.folder("open", mode: 0o777)
        chmod(folder, 0o777)
        let prlimit = try #require(Self.prlimit)
        // As root (CAP_IPC_LOCK ignores the limit), run as nobody.
        let prefix = [prlimit, "--memlock=65536:65536", "--"] + (try PermissionProbe.prefix(reaching: folder))
        let r = try CLI.io(["--folder", folder, "--io_size", "4M"], prefix: prefix)
        expectSuccess(r, operation: "Write")
        #expect(r.stderrLines.count == 1, "\(r)")
        #expect(r.stderr.hasPrefix("aio-bench: warning: could not page-lock"), "\(r)")
        #expect(r.stderr.contains("memlock limit 65536 bytes"), "\(r)")
        #expect(r.stdout.contains("buffers: not page-locked"), "\(r)")
        #expect(listing(folder).isEmpty)
    }
}

// MARK: - Helpers

/// The `engine:` line of an `io` summary.
private func engineLine(_ r: CLIResult) -> String? {
    r.stdout.split(separator: "\n").first { $0.hasPrefix("engine: ") }.map(String.init)
}
