import Foundation
import Testing

/// `--mpi` in a build without the package trait MPI (the default): one line saying how to get it.
@Suite("--mpi without the MPI trait")
struct MPIFlagTests {
    #if !MPI
    @Test("io, sweep and tune --mpi: one line naming the build command and libopenmpi-dev, exit 64",
          arguments: [["io", "--io_size", "4M"], ["sweep"], ["tune", "--no-report"]])
    func refusedWithoutTrait(_ command: [String]) throws {
        let scratch = try ScratchFolder("mpi-flag")
        defer { scratch.remove() }
        let data = try scratch.folder("data")
        let folder = command[0] == "io" ? ["--folder", data] : ["--nvme_dir", data, "--log_dir", scratch.child("l")]
        let r = try CLI.run(command + folder + ["--mpi"])
        #expect(r.status == 64, "\(r)")
        #expect(r.stderr == "aio-bench: --mpi: this aio-bench was built without MPI; build it with "
            + "`swift build -c release --traits MPI` (needs Open MPI: apt-get install libopenmpi-dev)\n", "\(r)")
        #expect(r.stdout.isEmpty && listing(data).isEmpty && listing(scratch.child("l")).isEmpty, "\(r)")
    }
    #endif
}
