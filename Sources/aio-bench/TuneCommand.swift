import AIOBench
import ArgumentParser
import AsyncIO
import Foundation

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
          help: "Run fio on the recommended configuration and compare (needs fio).")
    var crossCheck = false

    func run() throws {
        if !noReport { try ReportCommand.checkWritable(report, flag: "--report") }
        if let output { try ReportCommand.checkWritable(output, flag: "--output") }
        let options = try sweep.options(defaultDirs: ["."])
        _ = try sweep.runSweep(defaultDirs: ["."])
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
        if crossCheck { try FioCrossCheck.run(result: result, options: options) }
        for line in try TuneOutput.recommendation(result, output: output) { say(line) }
    }
}

/// Runs fio on the recommended configuration and prints both tools' figures and their ratio.
enum FioCrossCheck {
    static func run(result: TuningResult, options: SweepOptions) throws {
        guard let fio = findFio() else {
            say("cross-check: fio is not installed (apt-get install fio); skipped")
            return
        }
        let config = result.best.configuration
        let engine: FioEquivalent.Engine
        let resolved = EngineProbe.resolve(
            (try? config.engine.map { try EngineName.parse($0) }) ?? options.engine).kind
        switch resolved {
        case .uring: engine = .ioUring
        case .aio: engine = .libaio
        case .null: engine = .null
        case .posix, .auto: engine = .psync
        }
        let folder = options.nvmeDirs[0]
        for (operation, ours) in [(ReportRow.Operation.read, result.best.readMedian),
                                  (.write, result.best.writeMedian)] {
            guard let ours, operation == .read ? options.read : options.write else { continue }
            let size = options.ioSize / config.ioParallel * config.ioParallel
            var job = FioEquivalent(
                directory: folder, operation: operation, ioSize: size, blockSize: config.blockSize,
                queueDepth: config.queueDepth, ioParallel: config.ioParallel, singleSubmit: config.singleSubmit,
                engine: engine)
            job.fileName = "_aio_bench_fio_check"
            ScratchFiles.shared.add(file: job.filePath)
            defer { ScratchFiles.shared.remove(file: job.filePath) }
            if operation == .read {
                // fio lays the file out itself before reading.
                unlink(job.filePath)
            }
            let output = try runProcess(fio, job.arguments)
            let measured = try FioResult.parse(json: output)
            let theirs = (operation == .read ? measured.readBytesPerSecond : measured.writeBytesPerSecond)
                / 1_073_741_824
            say(String(format: "cross-check %@: aio-bench %.3f GiB/s, fio %.3f GiB/s, ratio %.3f (fio %@)",
                       operation.rawValue, ours, theirs, theirs > 0 ? ours / theirs : 0, engine.rawValue))
        }
    }

    static func findFio() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/fio"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    static func runProcess(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        let errors = Pipe()
        process.standardOutput = pipe
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw BenchError.runtime("cross-check: could not start \(executable): \(error)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let first = errorText.split(separator: "\n").first.map(String.init) ?? "exit \(process.terminationStatus)"
            throw BenchError.runtime("cross-check: fio failed: \(first)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
