/// Whether Linux may merge the requests of one submit call into larger ones before they reach
/// the device (io_uring and kernel AIO; the other engines submit one request at a time).
///
/// A submit call of 3 or more requests (`io_uring_enter`, `io_submit`) runs under a block-layer
/// plug, and the plug joins requests for neighbouring ranges of a file into one of up to the
/// device's `max_sectors_kb`. A sequential batch then reaches the device as a few large requests
/// rather than `queueDepth` requests of `blockSize`: the knobs no longer say what the device sees.
/// Measured on the development machine (virtio disk, `max_sectors_kb` 4096, mq-deadline; 1 GiB,
/// queue depth 16, 3 alternating runs; `/sys/block/vda/stat` counted the requests):
///
/// | requests | merged: in flight, GB/s | kept whole: in flight, GB/s |
/// |---|---|---|
/// | 1 MiB read | 4, 0.99–1.05 | 16, 1.09–1.18 |
/// | 1 MiB write | 3, 1.31–1.62 | 8, 1.44–2.08 |
/// | 256 KiB read | 1, 0.99–1.09 | 16, 1.19–1.20 |
/// | 256 KiB write | 1, 1.40–1.69 | 7, 1.90–2.06 |
/// | 64 KiB read / write (qd 32) | 1–2, 1.15–1.25 / 1.47–1.52 | 31 / 13, 1.14–1.19 / 1.59–1.71 |
/// | 16 KiB read / write (qd 32) | 1, 0.81–0.98 / 1.11–1.33 | 28 / 12, 0.55–0.67 / 0.81–0.90 |
///
/// Large requests gain from being kept whole; small ones gain from merging (and from fewer calls).
public enum RequestMerging: String, Sendable, Hashable, CaseIterable {
    /// Keep requests of `autoWholeFrom` (128 KiB) and more whole; let smaller ones merge. The default.
    case auto
    /// One submit call for everything pending, as DeepSpeed's `aio_handle` does (`io_submit` of the
    /// whole batch); `--target deepspeed` uses this.
    case allowed
    /// Submit calls of at most 2 requests, below the kernel's plug threshold (`need_plug` in
    /// io_uring, `AIO_PLUG_THRESHOLD` in fs/aio.c), so every request reaches the device as issued.
    /// Not with `sqpoll`, whose kernel thread takes the submission queue as it finds it.
    case avoided

    /// The smallest block size `auto` keeps whole.
    package static let autoWholeFrom = 128 << 10
    /// Requests per submit call that the kernel does not plug.
    static let unpluggedCall = 2

    /// Whether requests of `blockSize` bytes are kept whole.
    package func keepsWhole(blockSize: Int) -> Bool {
        switch self {
        case .auto: blockSize >= RequestMerging.autoWholeFrom
        case .allowed: false
        case .avoided: true
        }
    }

    /// The most requests one submit call may carry on a queue with these capabilities, with this
    /// policy and discipline (single submit: 1).
    static func callLimit(_ merging: RequestMerging, capabilities: QueueCapabilities, blockSize: Int,
                          singleSubmit: Bool) -> Int {
        if singleSubmit { return 1 }
        guard capabilities.contains(.mergesBatches), merging.keepsWhole(blockSize: blockSize) else { return Int.max }
        return unpluggedCall
    }
}
