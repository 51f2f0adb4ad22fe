import AsyncIO
import Foundation

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
    /// Bytes of each huge-page piece the buffers were built of (`AlignedBuffer.PageKind.runs`), when
    /// the deepspeed target could lay them out as ds_io's (nil otherwise).
    private(set) var pieceBytes: Int?
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
        guard let wanted = plan.bufferRunBytes ?? plan.target.physicalRunBytes, engine.movesData else {
            all = try Self.make(plan, footprint: 0)
            return finish()
        }
        // The deepspeed target: buffers laid out as ds_io's are here, built of huge-page pieces of its
        // mean run. Where that cannot be done (too many mappings), the older approximation follows.
        // A layout asked for by name is built or refused, never replaced by an approximation.
        if plan.bufferRunBytes != nil {
            guard plan.ioSize >= 2 << 20 else {
                throw .usage("--buffer_runs needs --io_size of at least 2M (the pieces come from huge pages)")
            }
            do throws(AsyncIOError) {
                all = try Self.make(plan, pieces: wanted)
            } catch {
                throw BenchError(error)
            }
            pieceBytes = wanted
            return finish()
        }
        if plan.ioSize >= 2 << 20, let built = try? Self.make(plan, pieces: wanted) {
            all = built
            pieceBytes = wanted
            return finish()
        }
        // Each try touches more ordinary
        // memory first (the kernel then hands out longer physically contiguous runs); the layout
        // closest to ds_io's is kept. Where frame numbers are hidden (not root) the first try stays.
        var best: (buffers: [AlignedBuffer], footprint: Int, runs: Int?)?
        for (attempt, footprint) in plan.target.footprintSchedule.enumerated() {
            let buffers = try Self.make(plan, footprint: footprint)
            let runs = Self.runBytes(buffers)
            attempts = attempt + 1
            if best == nil || Self.distance(runs, wanted) < Self.distance(best!.runs, wanted) {
                best = (buffers, footprint, runs)
            }
            guard let runs, Self.distance(runs, wanted) > MeasurementTarget.layoutTolerance else { break }
        }
        all = best!.buffers
        footprintBytes = best!.footprint
        finish()
    }

    /// Tries made to match ds_io's layout (1 when the first matched or nothing could be measured).
    private(set) var attempts = 1

    /// One buffer per task, allocated while `footprint` bytes of touched (not locked) 4 KiB pages are
    /// held, and freed after: the buffers' pages are in place by then. All or nothing: a runner kept
    /// after a failed configuration (a sweep goes on) must not find fewer buffers than tasks.
    private static func make(_ plan: BenchPlan, footprint bytes: Int) throws(BenchError) -> [AlignedBuffer] {
        do {
            let footprint = bytes > 0 ? try AlignedBuffer(count: bytes, lock: false, hugePages: false) : nil
            defer { withExtendedLifetime(footprint) {} }
            var made: [AlignedBuffer] = []
            for _ in 0..<plan.taskCount {
                made.append(try AlignedBuffer(count: plan.ioSize, lock: plan.lockMemory, hugePages: plan.target.hugePages))
            }
            return made
        } catch {
            throw BenchError(error)
        }
    }

    /// One buffer per task, each of huge-page pieces of `bytes` (all or nothing, as `make(_:footprint:)`).
    private static func make(_ plan: BenchPlan, pieces bytes: Int) throws(AsyncIOError) -> [AlignedBuffer] {
        var made: [AlignedBuffer] = []
        for _ in 0..<plan.taskCount {
            made.append(try AlignedBuffer(count: plan.ioSize, lock: plan.lockMemory, pages: .runs(bytes)))
        }
        return made
    }

    /// How far a layout's run length is from `wanted`, as a ratio (0: equal; unknown: infinite).
    private static func distance(_ runs: Int?, _ wanted: Int) -> Double {
        guard let runs, runs > 0 else { return .infinity }
        return abs(log(Double(runs) / Double(wanted)))
    }

    /// Average bytes per physically contiguous run of `buffers` (nil where the kernel hides frames).
    private static func runBytes(_ buffers: [AlignedBuffer]) -> Int? {
        let layouts = buffers.compactMap(\.physicalLayout)
        let runs = layouts.reduce(0) { $0 + $1.runs }
        guard layouts.count == buffers.count, runs > 0 else { return nil }
        return layouts.reduce(0) { $0 + $1.pages } * AlignedBuffer.pageSize / runs
    }

    /// Records the lock failure, huge pages and physical runs of the buffers kept.
    private func finish() {
        lockFailure = all.lazy.compactMap(\.lockFailure).first
        // Pieces are 4 KiB mappings of huge pages: none is mapped whole (and /proc/self/smaps, one
        // entry per piece, would be tens of megabytes).
        hugePageBytes = pieceBytes != nil ? 0 : all.reduce(0) { $0 + $1.hugePageBytes }
        physicalRunBytes = Self.runBytes(all)
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
