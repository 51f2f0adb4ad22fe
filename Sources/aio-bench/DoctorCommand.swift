import AIOBench
import ArgumentParser

/// `aio-bench doctor`: what works on this machine and what the folder's device is.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Show which engines work here and why others do not, limits, and the device behind a folder.")

    @Option(name: .customLong("folder"), help: "Folder to inspect (default: the current directory).")
    var folder = "."

    func run() throws {
        try BenchPlan.checkFolder(folder, flag: "folder")
        for line in Doctor.report(folder: folder) { say(line) }
    }
}
