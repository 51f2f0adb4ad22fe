import AIOBench
import ArgumentParser
import AsyncIO
import Foundation

/// The flags of `sweep` and `tune` (DeepSpeed's ds_nvme_tune spelling, kebab-case aliases).
struct SweepArguments: ParsableArguments {
    @Option(name: [.customLong("nvme_dir"), .customLong("nvme-dir")], parsing: .upToNextOption,
            help: "Folders on the devices to measure (one task per folder).")
    var nvmeDir: [String] = []

    @Option(name: [.customLong("sweep_config"), .customLong("sweep-config")],
            help: "JSON sweep space (default: DeepSpeed 0.19's 64-point grid).")
    var sweepConfig: String?

    @Flag(name: [.customLong("no_read"), .customLong("no-read")], help: "Skip the read sweep.")
    var noRead = false

    @Flag(name: [.customLong("no_write"), .customLong("no-write")], help: "Skip the write sweep.")
    var noWrite = false

    @Option(name: [.customLong("io_size"), .customLong("io-size")], help: "Bytes per task per loop.")
    var ioSize = "400M"

    @Flag(name: [.customLong("flush_page_cache"), .customLong("flush-page-cache")],
          help: "Drop the page cache before each configuration.")
    var flushPageCache = false

    @Option(name: [.customLong("log_dir"), .customLong("log-dir")], help: "Log folder.")
    var logDir = "_aio_bench_logs"

    @Option(name: .customLong("loops"), help: "Measured loops per trial.")
    var loops = 1

    @Option(name: [.customLong("warmup_loops"), .customLong("warmup-loops")], help: "Untimed loops per trial.")
    var warmupLoops = 1

    @Option(name: .customLong("trials"), help: "Trials per configuration, interleaved round-robin.")
    var trials = 3

    @Option(name: .customLong("engine"), help: "auto, io_uring, aio, posix or null.")
    var engine = "auto"

    @Flag(name: .customLong("force"), help: "Start afresh even if the log folder holds a different sweep.")
    var force = false

    @Flag(name: .customLong("buffered"), help: "Use the page cache instead of O_DIRECT.")
    var buffered = false

    @Flag(name: .customLong("verbose"), help: "Print one line per configuration run, with its speed.")
    var verbose = false

    @Flag(name: .customLong("quiet"), help: "Print only the result.")
    var quiet = false

    @Flag(name: .customLong("gpu"), help: "DeepSpeed: GPU buffers (needs CUDA; not supported here).")
    var gpu = false

    @Flag(name: [.customLong("gds"), .customLong("use_gds")], help: "DeepSpeed: GPUDirect Storage (not supported here).")
    var gds = false

    func options(defaultDirs: [String]) throws -> SweepOptions {
        if gpu { try GPUSupport.refuse("--gpu") }
        if gds { try GPUSupport.refuse("--gds") }
        let dirs = nvmeDir.isEmpty ? defaultDirs : nvmeDir
        if dirs.isEmpty { throw BenchError.usage("--nvme_dir is required: give one or more folders on the devices to measure") }
        var o = SweepOptions(nvmeDirs: dirs)
        o.sweepConfig = sweepConfig
        o.read = !noRead
        o.write = !noWrite
        o.ioSize = try ByteSize.parse(ioSize, name: "--io_size")
        o.flushPageCache = flushPageCache
        o.logDir = logDir
        o.loops = loops
        o.warmupLoops = warmupLoops
        o.trials = trials
        o.engine = try EngineName.parse(engine)
        o.force = force
        o.buffered = buffered
        return o
    }

    /// Runs the sweep with progress on stderr; returns the summary.
    func runSweep(defaultDirs: [String]) throws -> SweepSummary {
        let options = try options(defaultDirs: defaultDirs)
        let progress = Progress(quiet: quiet, verbose: verbose)
        let runner = try SweepRunner(options: options) { event in progress.show(event) }
        if !options.buffered {
            for dir in options.nvmeDirs where IOFile.directIOAlignment(folder: dir) == nil {
                throw BenchError.usage("folder '\(dir)' does not support direct I/O (O_DIRECT): use --buffered, "
                    + "or a folder on a disk file system")
            }
        }
        if !quiet {
            progress.line("sweep: \(runner.space.count) configurations × \(options.read && options.write ? 2 : 1) "
                + "operation(s) × \(options.trials) trial(s), io_size \(ByteSize.compact(options.ioSize)) per task, "
                + "folders \(options.nvmeDirs.joined(separator: ", ")), logs in \(options.logDir)")
        }
        let summary = try runner.run()
        progress.finish()
        if !quiet {
            progress.line(String(format: "sweep: %d run(s) in %.1f s (I/O %.1f s, removing old write files %.1f s; "
                                 + "tool overhead %.1f ms per run)",
                                 summary.runsDone, summary.wallSeconds, summary.ioSeconds, summary.removalSeconds,
                                 summary.overheadPerRunMillis)
                + (summary.skipped > 0 ? ", \(summary.skipped) complete log(s) kept from before" : ""))
        }
        // The failure that stopped the sweep is the error line below; do not say it twice.
        for failure in summary.failed where failure.error != summary.aborted {
            warn("configuration \(failure.name) failed: \(failure.error)")
        }
        if let aborted = summary.aborted {
            throw BenchError.runtime("sweep stopped: \(aborted); logs of finished configurations are kept "
                + "in \(options.logDir); fix the cause and run the same command again to resume")
        }
        return summary
    }
}

/// Progress on stderr: a live line on a terminal, one line per configuration otherwise.
final class Progress: @unchecked Sendable {
    private let quiet: Bool
    private let verbose: Bool
    private let live = isatty(2) == 1
    private let lock = NSLock()
    private var liveShown = false

    init(quiet: Bool, verbose: Bool) {
        self.quiet = quiet
        self.verbose = verbose
    }

    func line(_ text: String) {
        lock.withLock {
            clearLive()
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }

    func finish() { lock.withLock { clearLive() } }

    private func clearLive() {
        if liveShown {
            FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
            liveShown = false
        }
    }

    func show(_ event: SweepEvent) {
        guard !quiet else { return }
        switch event {
        case .note(let text):
            line(text)
        case let .starting(index, total, _, name, trial, trials):
            guard live else { return }
            lock.withLock {
                let text = "[\(index)/\(total)] \(name) trial \(trial)/\(trials) ..."
                FileHandle.standardError.write(Data("\r\u{1B}[2K\(text)".utf8))
                liveShown = true
            }
        case let .finished(index, total, _, name, trial, gibps, error, eta, best):
            let speed = gibps.map { String(format: "%.3f GiB/s", $0) } ?? "FAILED: \(error ?? "")"
            let bestText = [SweepOperation.read, .write].compactMap { op in
                best[op].map { String(format: "%@ %.2f", op.rawValue, $0.gibps) }
            }.joined(separator: ", ")
            let etaText = eta.map { Progress.duration($0) } ?? "?"
            let text = "[\(index)/\(total)] \(name) trial \(trial): \(speed) | best \(bestText) | ETA \(etaText)"
            if live && !verbose && error == nil {
                lock.withLock {
                    FileHandle.standardError.write(Data("\r\u{1B}[2K\(text)".utf8))
                    liveShown = true
                }
            } else {
                line(text)
            }
        }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}

/// `aio-bench sweep`: DeepSpeed's perf_run_sweep, in-process and resumable.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run every configuration of a sweep space; one DeepSpeed-format log each (resumable).")

    @OptionGroup var sweep: SweepArguments

    func run() throws {
        _ = try sweep.runSweep(defaultDirs: [])
    }
}
