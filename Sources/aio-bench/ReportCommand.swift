import AIOBench
import ArgumentParser

/// `aio-bench report`: one self-contained HTML page of a sweep (ours or DeepSpeed's), with CSV and JSON exports.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an HTML report of a log folder (aio-bench's or DeepSpeed's), optionally CSV and JSON.",
        discussion: """
            The page holds read and write heatmaps, the ten fastest configurations, the recommended "aio" \
            section with a copy button, the machine and the device, and the best results against the device's \
            ceiling. The device is that of the first folder named in <log_dir>/manifest.json, else of the \
            current directory. CSV and JSON carry one record per configuration and operation.
            """)

    @Option(name: [.customLong("log_dir"), .customLong("log-dir")], help: "The log folder.")
    var logDir = "_aio_bench_logs"

    @Option(name: .customLong("output"), help: "The HTML file to write.")
    var output = "aio-report.html"

    @Option(name: .customLong("csv"), help: "Also write the results as CSV to this file.")
    var csv: String?

    @Option(name: .customLong("json"), help: "Also write the results as JSON to this file.")
    var json: String?

    @Option(name: .customLong("title"), help: "The page title (default: aio-bench report: <log_dir>).")
    var title: String?

    func run() throws {
        for (flag, path) in [("--output", output), ("--csv", csv), ("--json", json)] {
            if let path { try OutputPath.checkWritable(path, flag: flag) }
        }
        let folder = try LogParser.parseFolder(logDir)
        let (deviceFolder, source) = ReportBuilder.deviceFolder(logDir: logDir)
        let report = ReportBuilder.build(
            folder: folder, machine: MachineFacts.current().lines, device: StorageDevice.inspect(folder: deviceFolder),
            deviceSource: source, probe: ReportBuilder.manifestProbe(logDir: logDir), title: title)
        try LogWriter.write(report.html, toFile: output)
        say("wrote \(output)")
        if let csv {
            try LogWriter.write(ReportExport.csv(report.input.rows), toFile: csv)
            say("wrote \(csv)")
        }
        if let json {
            try LogWriter.write(ReportExport.json(report.input.rows), toFile: json)
            say("wrote \(json)")
        }
        for note in report.recommendationNotes + report.notes { say("note: \(note)") }
        for warning in folder.skipWarnings { warn(warning) }
    }
}
