// Compiled only with the package trait MPI (`swift build --traits MPI`); empty in a default build.
#if MPI
import AIOBench
import CMPI
import Foundation

/// The ranks of the MPI job this process belongs to (Open MPI's `MPI_COMM_WORLD`), as AIOBench's
/// `Collective`. The only code of the package that calls MPI.
///
/// MPI is started once per process (`start()`), with `MPI_THREAD_SERIALIZED`: the coordination makes its
/// calls one at a time, from whichever thread runs the command. Errors are MPI's default,
/// `MPI_ERRORS_ARE_FATAL`: a failing call (a rank that died) ends the whole job rather than leaving ranks
/// waiting, so the calls do not throw.
public final class MPICluster: Collective {
    /// This process's rank in `MPI_COMM_WORLD`.
    public let rank: Int
    /// The number of ranks in `MPI_COMM_WORLD`.
    public let size: Int
    /// `MPI_Get_processor_name`: the node's host name.
    public let host: String

    private init(rank: Int, size: Int, host: String) {
        self.rank = rank
        self.size = size
        self.host = host
    }

    /// Starts MPI (`MPI_Init_thread`) and reads this rank, the job size and the host name. Run outside
    /// `mpirun` or `srun`, the process is a job of one rank.
    ///
    /// - Throws: `BenchError.runtime` when MPI cannot start or offers less than serialized threads.
    public static func start() throws(BenchError) -> MPICluster {
        var initialized: Int32 = 0
        _ = CMPI_initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            let rc = CMPI_init(CMPI_thread_serialized(), &provided)
            guard rc == CMPI_success() else { throw .runtime("MPI_Init_thread failed (MPI error \(rc))") }
            guard provided >= CMPI_thread_serialized() else {
                throw .runtime("this MPI offers thread level \(provided), below MPI_THREAD_SERIALIZED")
            }
        }
        var rank: Int32 = 0
        var size: Int32 = 0
        check(CMPI_rank(&rank), "MPI_Comm_rank")
        check(CMPI_size(&size), "MPI_Comm_size")
        var name = [CChar](repeating: 0, count: Int(CMPI_max_processor_name()) + 1)
        var length: Int32 = 0
        check(CMPI_processor_name(&name, &length), "MPI_Get_processor_name")
        let host = String(decoding: name.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return MPICluster(rank: Int(rank), size: Int(size), host: host)
    }

    /// `MPI_Barrier`.
    public func barrier() { MPICluster.check(CMPI_barrier(), "MPI_Barrier") }

    /// `MPI_Bcast` of the length, then of the bytes.
    public func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8] {
        var count = Int64(bytes.count)
        // The length first, as root's: the others size their buffer by it.
        withUnsafeMutableBytes(of: &count) { raw in
            MPICluster.check(CMPI_bcast_bytes(raw.baseAddress, Int32(raw.count), Int32(root)), "MPI_Bcast")
        }
        var buffer = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count))
        if !buffer.isEmpty {
            buffer.withUnsafeMutableBytes { raw in
                MPICluster.check(CMPI_bcast_bytes(raw.baseAddress, Int32(raw.count), Int32(root)), "MPI_Bcast")
            }
        }
        return buffer
    }

    /// `MPI_Allgather` of the lengths, then `MPI_Allgatherv` of the bytes.
    public func allGather(_ bytes: [UInt8]) -> [[UInt8]] {
        var mine = Int64(bytes.count)
        var counts = [Int64](repeating: 0, count: size)
        MPICluster.check(CMPI_allgather_int64(&mine, &counts), "MPI_Allgather")
        let counts32 = counts.map { Int32($0) }
        var displacements = [Int32](repeating: 0, count: size)
        for r in 1..<max(size, 1) { displacements[r] = displacements[r - 1] + counts32[r - 1] }
        let total = Int(counts.reduce(0, +))
        var all = [UInt8](repeating: 0, count: max(total, 1))
        bytes.withUnsafeBytes { send in
            all.withUnsafeMutableBytes { receive in
                MPICluster.check(CMPI_allgatherv_bytes(send.baseAddress, Int32(send.count), receive.baseAddress,
                                                       counts32, displacements), "MPI_Allgatherv")
            }
        }
        return (0..<size).map { r in
            Array(all[Int(displacements[r])..<Int(displacements[r]) + Int(counts32[r])])
        }
    }

    /// `MPI_Allreduce` with `MPI_MAX`.
    public func allReduceMax(_ value: Int) -> Int {
        var mine = Int64(value)
        var result: Int64 = 0
        MPICluster.check(CMPI_allreduce_max_int64(&mine, &result), "MPI_Allreduce")
        return Int(result)
    }

    /// `MPI_Finalize`: every rank calls it once, at the end, before exiting.
    public func finish() {
        var finalized: Int32 = 0
        _ = CMPI_finalized(&finalized)
        if finalized == 0 { _ = CMPI_finalize() }
    }

    /// `MPI_Abort`: ends every rank of the job with `status`. Call it only after this rank removed its files.
    public func abort(status: Int32) -> Never {
        _ = CMPI_abort(status)
        exit(status)
    }

    /// With `MPI_ERRORS_ARE_FATAL` a failing call does not return; should one return anyway, the job ends.
    private static func check(_ rc: Int32, _ call: String) {
        guard rc != CMPI_success() else { return }
        FileHandle.standardError.write(Data("aio-bench: \(call) failed (MPI error \(rc)); ending the job\n".utf8))
        _ = CMPI_abort(1)
        exit(1)
    }
}
#endif
