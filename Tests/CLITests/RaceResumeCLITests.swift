import Foundation
import Glibc
import Testing

/// A race interrupted by SIGINT and run again decides as an uninterrupted one: the simulated
/// device's noise follows each trial (`SimulatedDevice.beginNoiseStream`), the logs keep the race's
/// state, and every configuration ends with a complete log. (The simulated device sleeps in real
/// time, so scheduling jitter makes two runs' figures differ slightly: the pick is compared, and
/// the model makes it clear enough not to depend on that jitter.)
@Suite("aio-bench sweep: a race interrupted and resumed")
struct RaceResumeCLITests {
    /// 16 configurations; one is the best by 10 %, its neighbours take a few rounds to send away.
    static let model = #"""
        {"seed": 21, "noise": 0.04,
         "read": {"default": 1.0},
         "write": {"default": 0.4, "speeds": [
            {"block_size": "1M", "io_parallel": 2, "queue_depth": 32, "single_submit": false, "gibps": 1.0},
            {"block_size": "1M", "io_parallel": 2, "gibps": 0.9},
            {"block_size": "1M", "gibps": 0.7}]}}
        """#

    func args(data: String, config: String, model: String, logs: String) -> [String] {
        // 64 MiB per run: the simulated device sleeps 62–156 ms per run, so a millisecond of
        // scheduling delay on a busy machine (other suites run beside this one) moves a figure by
        // under 2 %, well inside the model's 10 % gap. At 8 MiB (8–20 ms) it moved them by up to 12 %
        // and once changed the pick.
        ["sweep", "--nvme_dir", data, "--sweep_config", config, "--io_size", "64M", "--loops", "1",
         "--warmup_loops", "0", "--no_read", "--engine", "sim", "--sim_model", model, "--log_dir", logs, "--quiet"]
    }

    /// Each log's name and its `note:` lines (trials, when it left, the verdict).
    func verdicts(_ logs: String) -> [String: [String]] {
        let folder = logs + "/_aio_bench_write_logs"
        var result: [String: [String]] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            let text = (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8)) ?? ""
            result[name] = text.split(separator: "\n").filter { $0.hasPrefix("note:") }.map(String.init)
        }
        return result
    }

    @Test("SIGINT mid-race, then the same command: complete logs and the same pick as a race never interrupted",
          .disabled(if: ProcessInfo.processInfo.environment["AIO_SANITIZER"] != nil,
                    "the simulated device runs in real time: a sanitizer's overhead on every run swamps the model's 10 % gap"))
    func interruptedRaceDecidesAlike() throws {
        let scratch = try ScratchFolder("raceresume")
        defer { scratch.remove() }
        let model = scratch.child("model.json")
        try Self.model.write(toFile: model, atomically: true, encoding: .utf8)
        let config = try writeSweepConfig(
            scratch, #"{"block_size": ["256K", "1M"], "queue_depth": [8, 32], "io_parallel": [1, 2], "single_submit": [false, true]}"#)
        let data = try scratch.folder("data", mode: 0o755)

        let reference = scratch.child("reference")
        let whole = try CLI.run(args(data: data, config: config, model: model, logs: reference))
        #expect(whole.status == 0, "\(whole)")
        let expected = verdicts(reference)
        #expect(expected.count == 16)
        #expect(expected.values.contains { $0.contains { $0.contains("left the race after round") } },
                "nobody left the race: the model does not exercise it")

        let logs = scratch.child("logs")
        let running = try RunningCLI.start(args(data: data, config: config, model: model, logs: logs)
            .map { RawArgument($0) })
        // Interrupt after round 1 (16 logs) and before the race ends.
        let progressed = waitUntil {
            running.hasExited || verdicts(logs).values.filter { $0.contains { $0.hasPrefix("note: trials 2") } }.count >= 2
        }
        #expect(progressed)
        #expect(!running.hasExited, "the race ended before the signal")
        running.signal(SIGINT)
        let stopped = running.finish()
        #expect(stopped.status == 128 + SIGINT, "\(stopped)")
        #expect(listing(data).isEmpty, "test files left: \(listing(data))")

        let again = try CLI.run(args(data: data, config: config, model: model, logs: logs))
        #expect(again.status == 0, "\(again)")
        #expect(listing(data).isEmpty)
        let resumed = verdicts(logs)
        #expect(Set(resumed.keys) == Set(expected.keys))
        #expect(resumed.values.allSatisfy { $0.contains { $0.hasPrefix("note: trials ") } }, "\(resumed)")
        #expect(resumed["write_block_overlap_ftd1_d32_bs1M_p2.txt"]?.contains("note: race: the pick") == true,
                "\(resumed)")
        let pickResumed = try CLI.run(["generate", "--log_dir", logs, "--objective", "write"])
        let pickWhole = try CLI.run(["generate", "--log_dir", reference, "--objective", "write"])
        // The `"aio"` block (the figures above it are the sleeps' own and differ a little).
        func block(_ r: CLIResult) -> Substring? { r.stdout.firstIndex(of: "{").map { r.stdout[$0...] } }
        #expect(pickResumed.status == 0 && block(pickResumed) != nil && block(pickResumed) == block(pickWhole),
                "\(pickResumed)\n\(pickWhole)")
    }
}
