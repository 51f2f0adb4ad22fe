import AsyncIO
import Foundation
import Testing

/// `io`'s workload flags and `tune`'s DeepSpeed cross-check, through the built tool.
@Suite("aio-bench: targets, write modes, ignored flags, DeepSpeed cross-check")
struct WorkloadCLITests {
    @Test("torch-only ds_io flags run, each with one note saying it is ignored and why")
    func ignoredFlags() throws {
        let scratch = try ScratchFolder("torch")
        defer { scratch.remove() }
        let r = try CLI.io(["--folder", scratch.path, "--io_size", "2M", "--engine", "posix", "--slow_bounce_buffer",
                            "--torch_legacy_save", "--use_accelerator_pin_memory", "--fast_io_size", "8M"])
        #expect(r.status == 0, "\(r)")
        for flag in ["--slow_bounce_buffer", "--torch_legacy_save", "--use_accelerator_pin_memory", "--fast_io_size"] {
            // --fast_io_size is ignored only without --stream (see StreamCLITests).
            let note = flag == "--fast_io_size" ? "is ignored without --stream: " : "is ignored: "
            #expect(r.stderrLines.filter { $0.contains("warning: \(flag) \(note)") }.count == 1, "\(flag): \(r)")
        }
    }

    @Test("the summary says the target and the write mode; a target and an engine that contradict are refused")
    func targetAndWriteMode() throws {
        let scratch = try ScratchFolder("target")
        defer { scratch.remove() }
        let fresh = try CLI.io(["--folder", scratch.path, "--io_size", "2M", "--engine", "posix",
                                "--fresh_file_each_loop"])
        #expect(fresh.status == 0, "\(fresh)")
        #expect(fresh.stdout.contains("\ntarget: native "), "\(fresh)")
        #expect(fresh.stdout.contains("\nwrite mode: fresh file each loop "), "\(fresh)")
        let overwrite = try CLI.io(["--folder", scratch.path, "--io_size", "2M", "--engine", "posix"])
        #expect(overwrite.stdout.contains("\nwrite mode: overwrite in place "), "\(overwrite)")
        let read = try CLI.io(["--folder", scratch.path, "--io_size", "2M", "--engine", "posix", "--read"])
        #expect(!read.stdout.contains("write mode:"), "\(read)")
        let refused = try CLI.io(["--folder", scratch.path, "--io_size", "2M", "--target", "deepspeed",
                                  "--engine", "io_uring"])
        #expect(refused.status == 64 && refused.stderrLines.count == 1, "\(refused)")
        #expect(refused.stderr.contains("contradicts --target deepspeed"), "\(refused)")
        let merging = try CLI.io(["--folder", scratch.path, "--io_size", "2M", "--target", "deepspeed",
                                  "--request_merging", "avoided"])
        #expect(merging.status == 64 && merging.stderrLines.count == 1, "\(merging)")
        #expect(merging.stderr.contains("--request_merging avoided contradicts --target deepspeed"), "\(merging)")
        let badMerging = try CLI.io(["--folder", scratch.path, "--io_size", "2M", "--request_merging", "never"])
        #expect(badMerging.status == 64 && badMerging.stderr.contains("'auto', 'allowed' or 'avoided'"), "\(badMerging)")
        let bad = try CLI.io(["--folder", scratch.path, "--io_size", "2M", "--target", "gpu"])
        #expect(bad.status == 64, "\(bad)")
        #expect(listingIsEmpty(scratch.path))
    }

    @Test("--buffer_runs lays out the deepspeed target's buffers as asked; a bad size or another target is one error",
          .enabled(if: EngineProbe.probe(.aio).works, "kernel AIO is refused here"))
    func bufferRuns() throws {
        let scratch = try ScratchFolder("runs")
        defer { scratch.remove() }
        let common = ["--folder", scratch.path, "--io_size", "4M", "--loops", "1"]
        let r = try CLI.io(common + ["--target", "deepspeed", "--buffer_runs", "64K", "--validate"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("built of 64 KiB pieces of huge pages"), "\(r)")
        #expect(r.stdout.contains("validate: data matches"), "\(r)")
        for (flags, message) in [(["--buffer_runs", "64K"], "add --target deepspeed"),
                                 (["--target", "deepspeed", "--buffer_runs", "5000"], "multiple of 4096 from 4K to 2M"),
                                 (["--target", "deepspeed", "--buffer_runs", "4M"], "multiple of 4096 from 4K to 2M")] {
            let refused = try CLI.io(common + flags)
            #expect(refused.status == 64 && refused.stderrLines.count == 1, "\(flags): \(refused)")
            #expect(refused.stderr.contains(message), "\(flags): \(refused)")
        }
        #expect(listingIsEmpty(scratch.path))
    }

    func listingIsEmpty(_ path: String) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? ["?"]).isEmpty
    }

    @Test("tune --cross-check runs the ds_io it is given and prints both figures; a missing one is a note")
    func tuneCrossCheck() throws {
        let scratch = try ScratchFolder("dscheck")
        defer { scratch.remove() }
        let script = scratch.path + "/fake_ds_io"
        try """
            #!/bin/sh
            for a in "$@"; do [ "$a" = --read ] && op=Read; done
            op=${op:-Write}
            echo "E2E $op Latency = 0.5 sec"; echo "E2E $op Speed = 1.25 GB/sec"
            """.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: script)
        let config = scratch.path + "/one.json"
        try #"{"block_size": ["1M"], "queue_depth": [8]}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let data = scratch.path + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: false)
        let common = ["tune", "--nvme_dir", data, "--sweep_config", config, "--io_size", "2M", "--trials", "1",
                      "--engine", "null", "--no-report", "--log_dir", scratch.path + "/logs", "--quiet"]
        let r = try CLI.run(common + ["--cross-check", "--deepspeed", script])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("cross-check read: aio-bench "), "\(r)")
        #expect(r.stdout.contains(", ds_io 1.250 GiB/s, ratio "), "\(r)")
        #expect(r.stdout.contains("cross-check write: aio-bench "), "\(r)")
        let missing = try CLI.run(common + ["--cross-check", "--deepspeed", scratch.path + "/nothing", "--force"])
        #expect(missing.status == 64 && missing.stderr.contains("--deepspeed"), "\(missing)")
    }
}

/// A sweep whose every configuration failed is a failure of the command.
@Suite("aio-bench sweep: every configuration failed")
struct SweepAllFailedTests {
    /// Whether the temporary folder takes O_DIRECT (the bad block sizes fail only there).
    static let temporaryFolderTakesDirectIO = IOFile.directIOAlignment(folder: NSTemporaryDirectory()) != nil

    @Test("exit 1, each failure listed, then one line saying all failed",
          .enabled(if: temporaryFolderTakesDirectIO, "the temporary folder refuses O_DIRECT, so nothing fails there"))
    func allFailed() throws {
        let scratch = try ScratchFolder("allfail")
        defer { scratch.remove() }
        let config = scratch.path + "/bad.json"
        try #"{"block_size": ["1000", "1001"]}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let data = scratch.path + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: false)
        let r = try CLI.run(["sweep", "--nvme_dir", data, "--sweep_config", config, "--io_size", "2M", "--trials", "1",
                             "--engine", "posix", "--quiet", "--log_dir", scratch.path + "/logs"])
        #expect(r.status == 1, "\(r)")
        #expect(r.stderrLines.filter { $0.contains("warning: configuration ") && $0.contains(" failed: ") }.count == 4,
                "\(r)")
        #expect(r.stderrLines.last?.contains("every configuration failed (4 of 4)") == true, "\(r)")
    }
}

/// `--engine sim --sim_model FILE.json` through the tool.
@Suite("aio-bench io --engine sim")
struct SimulatedCLITests {
    @Test("a simulated write then read validates, names the model and leaves nothing behind")
    func simulated() throws {
        let scratch = try ScratchFolder("sim")
        defer { scratch.remove() }
        let model = scratch.path + "/model.json"
        try #"{"seed": 3, "noise": 0.02, "read": {"default": 0.5}, "write": {"default": 0.5}}"#
            .write(toFile: model, atomically: true, encoding: .utf8)
        let data = scratch.path + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: false)
        for op in [[], ["--read"]] {
            let r = try CLI.io(["--folder", data, "--io_size", "4M", "--engine", "sim", "--sim_model", model,
                                "--validate"] + op)
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout.contains("engine: simulated device (model seed 3"), "\(r)")
            #expect(r.stdout.contains("validate: data matches"), "\(r)")
        }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: data)) ?? ["?"]).isEmpty)
        let missing = try CLI.io(["--folder", data, "--io_size", "4M", "--engine", "sim"])
        #expect(missing.status == 64 && missing.stderr.contains("--sim_model"), "\(missing)")
    }
}

/// The race's flags: bad values and flags that contradict a fixed schedule are one usage line.
@Suite("aio-bench sweep: racing flags")
struct RacingFlagTests {
    @Test("each bad racing flag is one line and exit 64", arguments: [
        (["--confidence", "2"], "--confidence 2.0"),
        (["--tolerance", "0.9"], "--tolerance 0.9"),
        (["--max_trials", "1"], "--max_trials 1"),
        (["--budget", "5q"], "--budget '5q'"),
        (["--budget", "0s"], "--budget '0s' must be positive"),
        (["--tolerance", "-1"], "--tolerance -1.0 must be at least 0"),
        (["--trials", "-2"], "--trials -2 must be between 1 and 1000"),
        (["--io_size", "-4M"], "--io_size"),
        (["--trials", "2", "--budget", "1m"], "--budget steers the race"),
        (["--trials", "2", "--confidence", "0.9"], "--confidence steers the race"),
    ])
    func badRacingFlags(_ flags: [String], _ named: String) throws {
        let scratch = try ScratchFolder("raceflags")
        defer { scratch.remove() }
        let r = try CLI.run(["sweep", "--nvme_dir", scratch.path, "--log_dir", scratch.path + "/logs"] + flags)
        #expect(r.status == 64 && r.stderrLines.count == 1, "\(r)")
        #expect(r.stderr.contains(named), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/logs"))
    }
}
