import AsyncIO
import AIOBench
import ArgumentParser

/// `aio-bench parse`: DeepSpeed's sorted `key = value` listing of a log folder.
struct ParseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "List a sweep's results as DeepSpeed's parse script does (reads DeepSpeed's logs too).")

    enum Metric: String, ExpressibleByArgument, CaseIterable {
        case readSpeed = "read_speed"
        case writeSpeed = "write_speed"
    }

    @Option(name: [.customLong("log_dir"), .customLong("log-dir")], help: "The log folder.")
    var logDir = "_aio_bench_logs"

    @Option(name: .customLong("metric"), help: "read_speed or write_speed.")
    var metric: Metric = .readSpeed

    func run() throws {
        let folder = try LogParser.parseFolder(logDir)
        let operation: IOOperation = metric == .readSpeed ? .read : .write
        for line in try folder.parseListing(for: operation) { say(line) }
        for warning in folder.noResultWarnings(for: operation) + folder.skipWarnings { warn(warning) }
    }
}
