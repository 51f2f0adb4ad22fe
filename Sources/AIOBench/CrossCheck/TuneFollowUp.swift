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

    /// Pairs of alternating runs the native follow-up makes.
    static let followUpPairs = 3

    /// Runs the recommendation on both targets, alternating (deepspeed then native, then native then
    /// deepspeed, ...) for `followUpPairs` pairs per operation, and returns the line comparing them:
    /// `the same configuration on swift-aio's own engine (native: io_uring, huge-page buffers), 3
    /// alternating pairs: read 1.21× the deepspeed target (95 % interval 1.10–1.33)`, or `... within
    /// noise (0.91–1.12)`. Nil when the sweep measured native already. Each target keeps its runner (and
    /// its buffers) for every pair.
    ///
    /// - Throws: what the benchmark throws.
    public static func nativeLine(result: TuningResult, options: SweepOptions) throws(BenchError) -> String? {
        guard options.target == .deepspeed else { return nil }
        func runner(_ target: MeasurementTarget) throws(BenchError) -> BenchRunner {
            var plan = BenchPlan(targets: [BenchTarget(folder: options.nvmeDirs[0])], ioSize: options.ioSize)
            plan.tasksPerFolder = result.best.configuration.tasksPerFolder
            plan.loops = max(1, options.loops)
            plan.warmupLoops = options.warmupLoops
            plan.buffered = options.buffered
            plan.target = target
            plan.writeMode = options.writeMode
            plan.readSubfolder = IOOperation.read.ioFolderName
            plan.writeSubfolder = IOOperation.write.ioFolderName
            return try BenchRunner(plan: plan)
        }
        let deepspeedConfig = handleConfig(result, options)
        var nativeConfig = deepspeedConfig
        if nativeConfig.engine == .aio { nativeConfig.engine = .auto }
        let native = try runner(.native)
        defer { native.cleanup() }
        let deepspeed = try runner(.deepspeed)
        defer { deepspeed.cleanup() }
        var parts: [String] = []
        var engine = ""
        for (operation, _) in medians(result, options) {
            var ratios: [Double] = []
            for pair in 0..<followUpPairs {
                var speeds: [MeasurementTarget: Double] = [:]
                for target in pair % 2 == 0 ? [MeasurementTarget.deepspeed, .native] : [.native, .deepspeed] {
                    let run = target == .native
                        ? try native.run(operation, config: nativeConfig, recordLatency: false)
                        : try deepspeed.run(operation, config: deepspeedConfig, recordLatency: false)
                    if target == .native { engine = run.config.engine.rawValue }
                    speeds[target] = run.e2eSpeed
                }
                if let n = speeds[.native], let d = speeds[.deepspeed], n > 0, d > 0 { ratios.append(n / d) }
            }
            parts.append("\(operation.rawValue) " + ratioText(ratios))
        }
        guard !parts.isEmpty else { return nil }
        return "the same configuration on swift-aio's own engine (native: \(engine), huge-page buffers), "
            + "\(followUpPairs) alternating pairs: " + parts.joined(separator: "; ")
    }

    /// The geometric mean of `ratios` against the deepspeed target with its 95 % t interval, or "within
    /// noise" when the interval holds 1.
    static func ratioText(_ ratios: [Double]) -> String {
        guard ratios.count >= 2 else { return ratios.first.map { String(format: "%.2f× (one pair)", $0) } ?? "no result" }
        let logs = ratios.map { log($0) }
        let n = Double(logs.count)
        let mean = logs.reduce(0, +) / n
        let sd = (logs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
        let half = Race.studentQuantile(0.975, degreesOfFreedom: n - 1) * sd / n.squareRoot()
        let low = exp(mean - half), high = exp(mean + half)
        if low <= 1, high >= 1 {
            return String(format: "within noise of the deepspeed target (%.2f×, 95 %% interval %.2f–%.2f)", exp(mean), low, high)
        }
        return String(format: "%.2f× the deepspeed target (95 %% interval %.2f–%.2f)", exp(mean), low, high)
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
