import AsyncIO
import Foundation

/// What `tune` measures after the sweep: the recommendation once more on swift-aio's own path (when the
/// sweep measured DeepSpeed's), and DeepSpeed's own `ds_io` on it (`--cross-check`).
public enum TuneFollowUp {
    /// The operations the sweep measured that have a median for the recommendation, read first.
    static func medians(_ result: TuningResult, _ options: SweepOptions) -> [(IOOperation, Double)] {
        [(IOOperation.read, result.best.readMedian), (.write, result.best.writeMedian)].compactMap { op, median in
            guard let median, op == .read ? options.read : options.write else { return nil }
            return (op, median)
        }
    }

    /// The configuration the sweep ran for the recommendation (the sweep's engine unless it named one).
    static func handleConfig(_ result: TuningResult, _ options: SweepOptions) -> HandleConfig {
        options.handleConfig(for: result.best.configuration)
    }

    /// Measures the recommendation once with `--target native` on the first folder and returns the
    /// line comparing it with the sweep's figures: `the same configuration on swift-aio's own engine
    /// (native: ...): read 3.1 GiB/s (1.21× the deepspeed target), write ...`. Nil when the sweep
    /// measured native already.
    ///
    /// - Throws: what the benchmark throws.
    public static func nativeLine(result: TuningResult, options: SweepOptions) throws(BenchError) -> String? {
        guard options.target == .deepspeed else { return nil }
        var plan = BenchPlan(targets: [BenchTarget(folder: options.nvmeDirs[0])], ioSize: options.ioSize)
        plan.tasksPerFolder = result.best.configuration.tasksPerFolder
        plan.loops = max(1, options.loops)
        plan.warmupLoops = options.warmupLoops
        plan.buffered = options.buffered
        plan.target = .native
        plan.writeMode = options.writeMode
        plan.readSubfolder = IOOperation.read.ioFolderName
        plan.writeSubfolder = IOOperation.write.ioFolderName
        var config = handleConfig(result, options)
        if config.engine == .aio { config.engine = .auto }
        let runner = try BenchRunner(plan: plan)
        defer { runner.cleanup() }
        var parts: [String] = []
        var engine = ""
        for (operation, deepspeed) in medians(result, options) {
            let native = try runner.run(operation, config: config, recordLatency: false)
            engine = native.config.engine.rawValue
            parts.append(String(format: "%@ %.2f GiB/s (%.2f× the deepspeed target's %.2f)", operation.rawValue,
                                native.e2eSpeed, deepspeed > 0 ? native.e2eSpeed / deepspeed : 0, deepspeed))
        }
        guard !parts.isEmpty else { return nil }
        return "the same configuration on swift-aio's own engine (native: \(engine), huge-page buffers): "
            + parts.joined(separator: ", ")
    }

    /// Runs ds_io on the recommendation for every measured operation and returns one line each.
    ///
    /// - Throws: what `DeepSpeedCrossCheck.compare` throws.
    public static func deepSpeedLines(check: DeepSpeedCrossCheck, result: TuningResult, options: SweepOptions)
        throws(BenchError) -> [String]
    {
        var lines: [String] = []
        for (operation, median) in medians(result, options) {
            let comparison = try check.compare(
                operation, config: handleConfig(result, options), folder: options.nvmeDirs[0], ioSize: options.ioSize,
                loops: max(1, options.loops), aioBenchGiBps: median)
            lines.append(comparison.line)
        }
        return lines
    }
}
