import Foundation
import Testing

/// What the `--mpi` tests need: `mpirun` on PATH and the MPI build of `aio-bench`
/// (`swift build --traits MPI --scratch-path .build-mpi`, which `.ci/run` makes before `swift test`).
enum MPIJob {
    /// The package root, from this file's place in it.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The MPI build of aio-bench: `.build-mpi/debug/aio-bench`, else `.build-mpi/release/aio-bench`.
    static let binary: String? = ["debug", "release"].map { packageRoot + "/.build-mpi/\($0)/aio-bench" }
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// `mpirun` on PATH.
    static let mpirun: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        .split(separator: ":").map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Whether both are there.
    static var available: Bool { binary != nil && mpirun != nil }

    /// Why the tests are skipped when they are.
    static let skipReason: Comment = """
        needs mpirun (apt-get install openmpi-bin libopenmpi-dev) and the MPI build in .build-mpi \
        (swift build --traits MPI --scratch-path .build-mpi): .ci/run makes both
        """

    /// mpirun's own flags: root is allowed (CI runs as root), more ranks than cores are allowed.
    static let launcherFlags = ["--allow-run-as-root", "--oversubscribe"]

    /// The argv of `mpirun -np N aio-bench args` (an argv array, never a shell).
    ///
    /// On SIGINT or SIGTERM, Open MPI 4's `mpirun` sends the ranks SIGCONT, SIGTERM `killAfter`
    /// seconds later and SIGKILL `killAfter` seconds after that (`odls_base_sigkill_timeout`, 1 s by
    /// default). A rank removes its test files in 60–130 ms (measured with the CPU loaded), but on a
    /// node loaded by the sanitizer runs of CI one was killed between removing its file and its
    /// folder, leaving an empty `_aio_bench_write_io`; tests of that removal give the ranks more time.
    static func argv(ranks: Int, _ args: [String], killAfter: Int? = nil) -> [String] {
        let grace = killAfter.map { ["--mca", "odls_base_sigkill_timeout", String($0)] } ?? []
        return [mpirun ?? "mpirun"] + launcherFlags + grace + ["-np", String(ranks), binary ?? "aio-bench"] + args
    }

    /// The argv of an MPMD launch: one rank per argument list, each `-np 1 aio-bench args`, joined by `:`.
    static func argv(eachRank: [[String]]) -> [String] {
        var argv = [mpirun ?? "mpirun"] + launcherFlags
        for (index, args) in eachRank.enumerated() {
            if index > 0 { argv.append(":") }
            argv += ["-np", "1", binary ?? "aio-bench"] + args
        }
        return argv
    }

    /// The lines aio-bench itself printed on stderr (mpirun adds its own boxes around them).
    static func toolLines(_ stderr: String) -> [Substring] {
        stderr.split(separator: "\n").filter { $0.hasPrefix("aio-bench: ") }
    }
}
