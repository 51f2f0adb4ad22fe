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
    /// rethrows it, so `aio-bench` prints its one line; the other ranks exit with its status, silently.
    static func run(_ coordinator: ClusterCoordinator, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            let failure = error as? BenchError ?? benchError(wrappedIn: error) ?? .runtime(String(describing: error))
            finish(coordinator)
            if coordinator.isLeader { throw failure }
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
