import AsyncIO

/// Whose I/O path a measurement stands for.
public enum MeasurementTarget: String, Sendable, Codable, CaseIterable {
    /// What DeepSpeed's runtime does with a configuration: kernel AIO (libaio's path), page-locked
    /// buffers laid out as torch pinned memory is (4 KiB pages, no `MADV_HUGEPAGE`), `O_DIRECT`
    /// files opened without truncation, and ds_io's write mode (overwrite in place).
    case deepspeed
    /// swift-aio's fastest path: the engine `--engine` picks (io_uring first), huge-page buffers.
    case native

    /// The engine this target runs, given the one asked for (`auto` when none was).
    ///
    /// - Throws: `BenchError.usage` when `deepspeed` is asked to run another engine than kernel AIO
    ///   (the simulated and null engines stand in for any engine and are allowed).
    func engine(asked: EngineKind, flag: String = "--engine") throws(BenchError) -> EngineKind {
        guard self == .deepspeed else { return asked }
        switch asked {
        case .auto, .aio: return .aio
        case .null, .sim: return asked
        case .uring, .posix:
            throw .usage("\(flag) \(asked.rawValue) contradicts --target deepspeed, which measures DeepSpeed's "
                + "runtime (kernel AIO): drop \(flag), or use --target native")
        }
    }

    /// Checks that `writeMode` is one this target measures (`deepspeed` measures ds_io's only).
    ///
    /// - Throws: `BenchError.usage` naming both flags.
    public func check(_ writeMode: WriteMode) throws(BenchError) {
        if self == .deepspeed, writeMode != .overwrite {
            throw .usage("--fresh_file_each_loop contradicts --target deepspeed, which measures ds_io's write mode "
                + "(overwrite in place): drop one of them")
        }
    }

    /// Whether task buffers ask for transparent huge pages.
    var hugePages: Bool { self == .native }

    /// Bytes of ordinary memory a measurement of this target touches (and holds until its buffers
    /// are in place) before it allocates its buffers: DeepSpeed's pinned buffers are allocated in a
    /// process that already holds python's, torch's and the op's heap (`RssAnon` of a ds_io process with DeepSpeed 0.19.8 and
    /// its aio handle: 322 MB). Over 4 KiB pages that matters: the kernel hands out its smallest
    /// free fragments first, so a buffer allocated after such a footprint lies in longer physically
    /// contiguous runs, and its requests merge into fewer segments (on this virtio disk: ds_io's
    /// write buffer in runs of 30–43 KiB at 4.1–4.4 GB/s, one allocated first in runs of 13–19 KiB
    /// at 3.1–3.5 GB/s).
    var footprintBytes: Int { self == .deepspeed ? 320 << 20 : 0 }

    /// ds_io's pinned buffer, physically: its mean run of consecutive 4 KiB pages, which the
    /// deepspeed target's buffers are made to match (nil for `native`, whose buffers are huge pages):
    /// built of huge-page pieces of this size (`AlignedBuffer.PageKind.runs`), or, where that cannot
    /// be done, allocated after a footprint (`footprintSchedule`).
    /// Read from `/proc/PID/pagemap` during ds_io runs (`scripts/buffer-layout.py PID`, root): a
    /// 1 GiB buffer of DeepSpeed 0.19.8 in runs of 95, 118, 135, 154 and 159 KiB on average (five
    /// processes, 2026-12-08; 36 KiB in one on 2026-12-07, when the machine's free memory was more
    /// fragmented): it follows the kernel's free lists, so `--buffer_runs` takes a fresh measurement.
    var physicalRunBytes: Int? { self == .deepspeed ? 128 << 10 : nil }

    /// The footprints the deepspeed target tries, in order, until its buffers' runs are within
    /// `layoutTolerance` of ds_io's: more touched memory first gives longer runs.
    var footprintSchedule: [Int] { self == .deepspeed ? [320 << 20, 640 << 20, 1280 << 20] : [0] }

    /// How far (as a log ratio: 0.2 is about ±20 %) the deepspeed target's mean run may be from
    /// ds_io's before it allocates again.
    static let layoutTolerance = 0.2

    /// One line for summaries and logs.
    var summary: String {
        switch self {
        case .deepspeed:
            "deepspeed (what DeepSpeed's runtime does: kernel AIO, pinned buffers in 4 KiB pages laid out "
                + "physically as ds_io's, ds_io's write mode)"
        case .native: "native (swift-aio's fastest path: io_uring when it works, huge-page buffers)"
        }
    }
}

/// How write loops treat the file they write.
public enum WriteMode: String, Sendable, Codable, CaseIterable {
    /// ds_io's: the file is removed once before the first loop (warm-up included); every loop then
    /// writes the same file again, opened without truncation, so measured loops overwrite blocks
    /// the file system has already allocated.
    case overwrite
    /// The file is removed and created again (and its extents reserved) before every loop: every
    /// loop pays the block allocation, as a checkpoint written to a new file does.
    case freshFileEachLoop = "fresh_file_each_loop"

    /// One line for summaries and logs.
    var summary: String {
        switch self {
        case .overwrite: "overwrite in place (ds_io: the file is removed once, before the first loop)"
        case .freshFileEachLoop: "fresh file each loop (removed and created again: allocating writes)"
        }
    }
}
