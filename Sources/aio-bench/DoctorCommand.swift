import AIOBench
import ArgumentParser

/// `aio-bench doctor`: what works on this machine and what the folder's device is.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Show which engines work here and why others do not, limits, and the device behind a folder.",
        discussion: """
            The device section names the block device behind --folder, its model and PCIe link, and the link's \
            theoretical limit where there is one. --probe adds a short measured ceiling: a write and a read of \
            --probe_size (default 512M) with block 1M, queue depth 64, io_parallel 8 and the fastest engine, in \
            a sub-folder of --folder that is removed afterwards.
            """)

    @Option(name: .customLong("folder"), help: "Folder to inspect (default: the current directory).")
    var folder = "."

    @Flag(name: .customLong("probe"), help: "Also measure a short ceiling: one fast write and read in --folder.")
    var probe = false

    @Option(name: [.customLong("probe_size"), .customLong("probe-size")],
            help: .abstract("Bytes the probe writes and reads (K/M/G); reduced to fit free space and memory.",
                            default: DoctorCommand.defaultProbeSize),
            transform: ByteCount.parser("--probe_size"))
    var probeSize = DoctorCommand.defaultProbeSize

    /// 512 MiB: long enough to pass the device's caches, short enough to take seconds.
    static let defaultProbeSize = ByteCount(bytes: 512 << 20)

    func run() throws {
        try BenchPlan.checkFolder(folder, flag: "folder")
        for line in Doctor.report(folder: folder) { say(line) }
        guard probe else { return }
        let settings = Probe.Settings(ioSize: probeSize.bytes)
        for line in try Doctor.probeReport(folder: folder, settings: settings) { say(line) }
    }
}
