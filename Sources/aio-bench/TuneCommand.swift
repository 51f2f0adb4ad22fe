import AIOBench
import ArgumentParser

/// `aio-bench tune`: sweep, then generate. With no arguments: the current directory, defaults.
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Sweep the configurations on a folder and print the best DeepSpeed \"aio\" config (ds_nvme_tune).",
        discussion: """
            Runs `sweep` (resumable: run the same command again after Ctrl-C), then prints the top \
            configurations with their spread, the device ceiling, DeepSpeed's "Best performance" line and \
            the "aio" JSON, and writes an HTML report.
            """)

    @OptionGroup var sweep: SweepArguments

    @Option(name: .customLong("objective"), help: "time (default), sum, read or write.")
    var objective: TuningObjective = .time

    @Option(name: .customLong("output"), help: "Also write the \"aio\" JSON to this file.")
    var output: String?

    @Option(name: .customLong("report"), help: "The HTML report to write.")
    var report = "aio-report.html"

    @Flag(name: [.customLong("no-report"), .customLong("no_report")], help: "Do not write the HTML report.")
    var noReport = false

    @Flag(name: [.customLong("cross-check"), .customLong("cross_check")],
          help: "Run fio and DeepSpeed's ds_io on the recommended configuration and compare.")
    var crossCheck = false

    @Option(name: .customLong("deepspeed"), help: "The ds_io to cross-check with (default: ds_io on PATH).")
    var deepspeed: String?

    func run() throws {
        if sweep.mpi {
            if crossCheck {
                throw BenchError.usage("--cross-check runs fio and ds_io on one node: drop it, or --mpi")
            }
            return try sweep.runAcrossRanks(defaultDirs: ["."], defaultTarget: .deepspeed, objective: objective,
                                            leaderCheck: checkOutputs) { options in
                try conclude(options: options, deepSpeedCheck: nil, acrossRanks: true)
            }
        }
        let deepSpeedCheck = try checkOutputs()
        let options = try sweep.options(defaultDirs: ["."], defaultTarget: .deepspeed, objective: objective)
        _ = try sweep.runSweep(defaultDirs: ["."], defaultTarget: .deepspeed, objective: objective)
        try conclude(options: options, deepSpeedCheck: deepSpeedCheck, acrossRanks: false)
    }

    /// Checks the files tune writes before the sweep starts; returns the ds_io to cross-check with.
    @discardableResult
    func checkOutputs() throws -> DeepSpeedCrossCheck? {
        if !noReport { try OutputPath.checkWritable(report, flag: "--report") }
        let deepSpeedCheck = crossCheck ? try DeepSpeedCrossCheck(explicit: deepspeed) : nil
        if let output { try OutputPath.checkWritable(output, flag: "--output") }
        return deepSpeedCheck
    }

    /// After the sweep: the recommendation, the report and the follow-ups. Across ranks the native
    /// follow-up is left out (it would measure rank 0's node alone).
    func conclude(options: SweepOptions, deepSpeedCheck: DeepSpeedCrossCheck?, acrossRanks: Bool) throws {
        let folder = try LogParser.parseFolder(sweep.logDir)
        let result = try ParamGenerator.generate(folder, objective: objective)
        let device = StorageDevice.inspect(folder: options.nvmeDirs[0])
        var reportPath: String?
        if !noReport {
            let built = ReportBuilder.build(
                folder: folder, machine: MachineFacts.current().lines, device: device,
                deviceSource: "first --nvme_dir (\(options.nvmeDirs[0]))")
            try LogWriter.write(built.html, toFile: report)
            reportPath = report
        }
        if !sweep.quiet {
            for line in ReportBuilder.tuneSummary(folder: folder, result: result, device: device,
                                                  reportPath: reportPath) {
                say(line)
            }
        }
        if !acrossRanks, let line = try TuneFollowUp.nativeLine(result: result, options: options) { say(line) }
        if crossCheck {
            if let check = FioCrossCheck(result: result, options: options) {
                for job in check.jobs { say(try check.run(job).line) }
            } else {
                say(FioCrossCheck.notInstalledLine)
            }
            if let deepSpeedCheck {
                for line in try TuneFollowUp.deepSpeedLines(check: deepSpeedCheck, result: result, options: options) {
                    say(line)
                }
            } else {
                say(DeepSpeedCrossCheck.notFoundLine)
            }
        }
        for line in try TuneOutput.recommendation(result, output: output) { say(line) }
    }
}
