import AIOBench
import ArgumentParser
import Foundation

/// `aio-bench tune`: sweep, then generate. With no arguments: the current directory, defaults.
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Sweep the configurations on a folder and print the best DeepSpeed \"aio\" config (ds_nvme_tune).")

    @OptionGroup var sweep: SweepArguments

    @Option(name: .customLong("objective"), help: "time (default), sum, read or write.")
    var objective: TuningObjective = .time

    @Option(name: .customLong("output"), help: "Also write the \"aio\" JSON to this file.")
    var output: String?

    func run() throws {
        _ = try sweep.runSweep(defaultDirs: ["."])
        let folder = try LogParser.parseFolder(sweep.logDir)
        let result = try ParamGenerator.generate(folder, objective: objective)
        for line in try TuneOutput.recommendation(result, output: output) { say(line) }
    }
}
