import AIOBench
import ArgumentParser

/// `aio-bench generate`: the best configuration as DeepSpeed's runtime `"aio"` section.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Pick the best configuration from a log folder and print it as {\"aio\": {...}}.")

    @Option(name: [.customLong("log_dir"), .customLong("log-dir")], help: "The log folder.")
    var logDir = "_aio_bench_logs"

    @Option(name: .customLong("objective"), help: "time (default), sum, read or write.")
    var objective: TuningObjective = .time

    @Option(name: .customLong("output"), help: "Also write the JSON to this file.")
    var output: String?

    func run() throws {
        let folder = try LogParser.parseFolder(logDir)
        let result = try ParamGenerator.generate(folder, objective: objective)
        for line in try TuneOutput.recommendation(result, output: output) { say(line) }
    }
}

extension TuningObjective: ExpressibleByArgument {}
