import AIOBench
import Foundation

#if MPI
import AIOCluster
#endif

/// `--mpi`: this process as one rank of an MPI job (`mpirun`, `srun`). Built with the package trait MPI it
/// starts Open MPI; a default build refuses the flag with one line saying how to build with it.
enum ClusterLaunch {
    /// The line a build without the trait prints for `--mpi`.
    static let notBuiltLine = "--mpi: this aio-bench was built without MPI; build it with "
        + "`swift build -c release --traits MPI` (needs Open MPI: apt-get install libopenmpi-dev)"

    /// Starts MPI and returns the coordinator of this rank's job.
    ///
    /// - Throws: `BenchError.usage` when built without MPI; `BenchError.runtime` when MPI cannot start.
    static func start() throws(BenchError) -> ClusterCoordinator {
        #if MPI
        return ClusterCoordinator(try MPICluster.start())
        #else
        throw .usage(notBuiltLine)
        #endif
    }

    /// Runs `body` on this rank and ends MPI. A failure is every rank's (the coordination sees to it): rank 0
    /// prints its one line, then every rank meets once more and exits with its status. The meeting keeps
    /// the other ranks alive until the line is out: `mpirun` ends the whole job as soon as one rank exits
    /// with a failure, which would otherwise kill rank 0 before it printed.
    static func run(_ coordinator: ClusterCoordinator, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            let failure = error as? BenchError ?? benchError(wrappedIn: error) ?? .runtime(String(describing: error))
            // Every rank threw this one (a meeting shared it): rank 0 speaks for the job. A failure this
            // rank alone met after the last meeting (the others are finishing): it speaks for itself.
            let shared = coordinator.sharedFailure?.description == failure.description
            if coordinator.isLeader || !shared {
                let prefix = shared || coordinator.isLeader ? "" : "rank \(coordinator.rank) (\(coordinator.collective.host)): "
                FileHandle.standardError.write(Data("aio-bench: \(ConsoleText.oneLine(prefix + failure.description))\n".utf8))
            }
            coordinator.endQuietly(status: failure.exitCode)
            if shared { coordinator.collective.barrier() }
            finish(coordinator)
            Foundation.exit(failure.exitCode)
        }
        finish(coordinator)
    }

    /// `MPI_Finalize`, on every rank, once.
    private static func finish(_ coordinator: ClusterCoordinator) {
        #if MPI
        (coordinator.collective as? MPICluster)?.finish()
        #endif
    }
}
