import AsyncIO

/// The task buffers of a `BenchRunner`, one per task: allocated and page-locked once and reused by
/// every run, trial and configuration; what they hold; and how the kernel laid them out (what the
/// summary reports).
final class TaskBuffers {
    /// The buffers, one per task (empty until `allocate`).
    private(set) var all: [AlignedBuffer] = []
    /// Bytes of the buffers backed by huge pages, read from /proc once after allocation.
    private(set) var hugePageBytes = 0
    /// Average bytes per physically contiguous run of the buffers (see `PhysicalLayout`).
    private(set) var physicalRunBytes: Int?
    /// Bytes of ordinary memory touched just before the buffers were allocated (the target's
    /// `footprintBytes`), so they are laid out as in the process the target stands for.
    private(set) var footprintBytes: Int?
    /// Why the first buffer could not be page-locked (nil when every buffer was).
    private(set) var lockFailure: String?

    /// What the buffers hold: nothing yet, their random write data, the simulated device's pattern
    /// (what its reads return, so a simulated write-then-read compares equal), or what a read of the
    /// read files left (their seeded random data: as good to write as fresh random data, so a write
    /// after a read does not fill 400 MiB again).
    enum Contents { case unfilled, random, simulatedPattern, readData }
    /// What the buffers hold now; a read sets it to `readData` (or `unfilled` when it moved no data).
    var contents = Contents.unfilled

    /// Allocates (and page-locks) the buffers of `plan`, once; later calls do nothing. They are not
    /// filled here: a read overwrites them anyway, and a write fills them once (`fillForWriting`).
    ///
    /// - Parameter engine: the engine that will move the data. The simulated and null engines move
    ///   none, so the physical layout the target's footprint shapes does not matter to them.
    func allocate(_ plan: BenchPlan, engine: EngineKind) throws(BenchError) {
        guard all.isEmpty else { return }
        // Touched (not locked) 4 KiB pages, held while the buffers are allocated (see
        // `footprintBytes`) and freed after: the buffers' pages are in place by then.
        let footprint: AlignedBuffer?
        if plan.target.footprintBytes > 0, engine.movesData {
            do {
                footprint = try AlignedBuffer(count: plan.target.footprintBytes, lock: false, hugePages: false)
            } catch {
                throw BenchError(error)
            }
            footprintBytes = footprint?.count
        } else {
            footprint = nil
        }
        defer { withExtendedLifetime(footprint) {} }
        // All or nothing: a runner kept after a failed configuration (a sweep goes on) must not
        // find fewer buffers than tasks on its next run.
        var made: [AlignedBuffer] = []
        for _ in 0..<plan.taskCount {
            do {
                made.append(try AlignedBuffer(count: plan.ioSize, lock: plan.lockMemory,
                                              hugePages: plan.target.hugePages))
            } catch {
                throw BenchError(error)
            }
        }
        all = made
        lockFailure = all.lazy.compactMap(\.lockFailure).first
        measureLayout()
    }

    /// Reads the buffers' huge pages and physical runs from /proc (the runs only where the kernel
    /// shows them for every buffer).
    private func measureLayout() {
        hugePageBytes = all.reduce(0) { $0 + $1.hugePageBytes }
        let layouts = all.compactMap(\.physicalLayout)
        let runs = layouts.reduce(0) { $0 + $1.runs }
        if layouts.count == all.count, runs > 0 {
            physicalRunBytes = layouts.reduce(0) { $0 + $1.pages } * AlignedBuffer.pageSize / runs
        }
    }

    /// Fills the buffers for writing, once: seeded pseudo-random data, or the pattern for `sim`.
    ///
    /// - Parameter firstTask: the job-wide number of the first buffer's task, which seeds its
    ///   data, so ranks sharing a folder write different data.
    func fillForWriting(simulated: Bool, firstTask: Int) {
        let wanted: Contents = simulated ? .simulatedPattern : .random
        guard contents != wanted, simulated || contents != .readData else { return }
        for (task, buffer) in all.enumerated() {
            if simulated {
                buffer.fillPattern()
            } else {
                buffer.fillRandom(seed: UInt64(firstTask + task + 1) &* 0x9E37_79B9)
            }
        }
        contents = wanted
    }
}
