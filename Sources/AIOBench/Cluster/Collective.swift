import AsyncIO

/// The ranks of one job that measures together (one rank per process, on one node or many), as the
/// coordination of `io`, `sweep` and `tune` needs them.
///
/// Every rank makes the same calls in the same order, and each call returns on a rank once every rank has
/// made it. The coordination (`ClusterCoordinator`, `ClusterBench`, `ClusterSweep`) is written against this
/// protocol and knows nothing of MPI: `AIOCluster`'s `MPICluster` (package trait `MPI`) implements it over
/// Open MPI, `SingleRank` is a job of one, and the tests run jobs of threads.
///
/// The calls do not throw: a transport that fails ends the whole job (MPI's default error handler), so no
/// rank is left waiting in a call the others have given up on.
public protocol Collective: AnyObject {
    /// This process's number in the job, from 0.
    var rank: Int { get }
    /// The number of ranks in the job.
    var size: Int { get }
    /// The name of the node this rank runs on.
    var host: String { get }
    /// Returns once every rank has called it.
    func barrier()
    /// Returns `bytes` of rank `root` on every rank (the others' `bytes` are ignored).
    func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8]
    /// Returns every rank's `bytes`, indexed by rank, on every rank.
    func allGather(_ bytes: [UInt8]) -> [[UInt8]]
    /// Returns the largest `value` of all ranks, on every rank.
    func allReduceMax(_ value: Int) -> Int
    /// Ends every rank of the job with `status`: for a failure the other ranks cannot learn at a meeting.
    /// Call it only after this rank removed its files.
    func abort(status: Int32) -> Never
}

/// A job of one rank: every call returns at once with this rank's own values.
package final class SingleRank: Collective {
    /// Rank 0.
    package let rank = 0
    /// One rank.
    package let size = 1
    /// The name given at creation.
    package let host: String

    /// Creates a job of one rank on `host`.
    package init(host: String = "localhost") { self.host = host }

    /// Returns at once.
    package func barrier() {}
    /// Returns `bytes`.
    package func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8] { bytes }
    /// Returns `[bytes]`.
    package func allGather(_ bytes: [UInt8]) -> [[UInt8]] { [bytes] }
    /// Returns `value`.
    package func allReduceMax(_ value: Int) -> Int { value }
    /// Ends the process with `status`.
    package func abort(status: Int32) -> Never { SystemInfo.exitImmediately(status) }
}
