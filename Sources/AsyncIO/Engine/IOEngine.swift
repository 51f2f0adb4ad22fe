import CAsyncIO
import Synchronization
import Glibc

/// Which kernel interface moves the bytes.
public enum EngineKind: String, Sendable, CaseIterable, Hashable, Codable {
    /// The best that works here: io_uring, else kernel AIO, else POSIX.
    case auto
    /// io_uring through raw `io_uring_setup` / `io_uring_enter` (no liburing).
    case uring = "io_uring"
    /// Linux kernel AIO through raw `io_setup` / `io_submit` / `io_getevents` (no libaio).
    case aio
    /// `pread` / `pwrite` on the worker threads: works on any file system.
    case posix
    /// No I/O at all: every request completes at once. Measures the scheduling cost.
    case null
    /// A simulated device: no I/O; operations take the time a `SimulatedDevice` model gives
    /// (`EngineOptions.simulation`). Never chosen by `auto`.
    case sim

    /// Whether this engine moves data between memory and storage: `null` and `sim` move none (a
    /// read leaves the buffer as it was, or fills it with the simulated device's pattern).
    package var movesData: Bool { self != .null && self != .sim }

    /// The concrete engines that work on this machine, best first (never `.auto`).
    package static var available: [EngineKind] {
        [.uring, .aio, .posix, .null].filter { EngineProbe.probe($0).works }
    }
}

/// What a direction of transfer is: the one read/write type of the package.
public enum IOOperation: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    /// File to memory.
    case read
    /// Memory to file.
    case write

    /// Read sorts before write (as in DeepSpeed's tuple keys).
    public static func < (lhs: IOOperation, rhs: IOOperation) -> Bool { lhs == .read && rhs == .write }
}

/// One request as handed to an engine: a contiguous range of one file and of memory.
struct IORequest {
    var operation: IOOperation
    var fd: Int32
    var address: UnsafeMutableRawPointer
    var length: Int
    var offset: Int64
    /// The scheduler's slot number; comes back in the completion.
    var tag: Int
}

/// One completion: the slot and the kernel's result (bytes moved, or `-errno`).
struct IOCompletion {
    var tag: Int
    var result: Int
}

/// A per-worker kernel queue: an io_uring instance, an AIO context, or a stand-in.
///
/// A queue is used by one thread only. `submit` hands requests to the kernel and returns
/// how many it took (possibly fewer, possibly 0 when the kernel is busy: reap, then retry);
/// `reap` waits for at least `minimum` completions and appends what is ready.
protocol IOQueue: AnyObject {
    /// The engine this queue belongs to (for what it prints; the scheduler asks `capabilities`).
    var kind: EngineKind { get }
    /// What the queue can do, which decides how the scheduler drives it.
    var capabilities: QueueCapabilities { get }
    /// Requests the queue can hold in flight.
    var capacity: Int { get }
    /// One-line description of the path taken (for example registered buffers or not).
    var pathDescription: String { get }
    /// Called at the start of each slice, before `prepare`.
    func begin(_ slice: Slice)
    /// Called at the start of each slice with the memory it will use (register it if useful), and the
    /// whole allocation that memory is a part of, to register instead where it can (nil: `memory` alone).
    func prepare(memory: UnsafeMutableRawBufferPointer, region: UnsafeMutableRawBufferPointer?, fds: [Int32])
    /// Queues and submits requests; returns how many the kernel accepted.
    func submit(_ requests: UnsafeBufferPointer<IORequest>, path: String) throws(AsyncIOError) -> Int
    /// Waits for at least `minimum` completions and appends every ready one to `out`.
    func reap(minimum: Int, into out: inout [IOCompletion], path: String) throws(AsyncIOError)
    /// Asks the kernel to cancel the in-flight requests with these tags, where the engine can.
    /// Best effort: every request still completes through `reap` (cancelled ones with a negative
    /// result such as `-ECANCELED`), so the caller reaps them all before reusing their memory.
    func cancel(tags: [Int])
    /// Wakes this queue's worker out of a wait in `reap` when work is queued for it (nil: the
    /// worker takes new work at its next completion).
    var wakeup: QueueWakeup? { get }
}

extension IOQueue {
    /// Most queues cannot be woken: their waits end at the next completion.
    var wakeup: QueueWakeup? { nil }
    /// Most queues need nothing per slice.
    func begin(_ slice: Slice) {}
    /// Queues whose requests complete inside `submit` have nothing in flight to cancel.
    func cancel(tags: [Int]) {}
}

/// What a kernel queue can do, declared by each engine's queue: the scheduler, the streamed reader
/// and `RequestMerging` ask these, never the engine's name.
struct QueueCapabilities: OptionSet, Sendable {
    let rawValue: Int

    /// Requests stay in flight after `submit` and complete through `reap` (without it, each request
    /// completes inside `submit`, as with `pread`/`pwrite`).
    static let keepsRequestsInFlight = QueueCapabilities(rawValue: 1 << 0)
    /// The next operation's requests may be submitted while the previous one's are in flight, so
    /// the queue stays full across operations (not the simulator: its speed is set per slice).
    static let overlapsOperations = QueueCapabilities(rawValue: 1 << 1)
    /// Neighbouring requests of one submit call may be merged by the block layer (its plug), so the
    /// size of a call decides the size of requests at the device (not with io_uring's SQPOLL, whose
    /// kernel thread submits).
    static let mergesBatches = QueueCapabilities(rawValue: 1 << 2)
    /// Data moves between memory and the file (not the null and simulated engines).
    static let movesData = QueueCapabilities(rawValue: 1 << 3)
}

/// Builds a queue of the given concrete kind with room for `depth` requests.
func makeQueue(kind: EngineKind, depth: Int, options: EngineOptions, config: HandleConfig? = nil)
    throws(AsyncIOError) -> IOQueue
{
    switch kind {
    case .sim: return try SimulatedQueue(depth: depth, config: config ?? HandleConfig(engineOptions: options))
    case .uring: return try URingQueue(depth: depth, options: options.uring)
    case .aio: return try KernelAIOQueue(depth: depth)
    case .posix: return PosixQueue(depth: depth)
    case .null: return NullQueue(depth: depth)
    case .auto: throw .invalid("create engine", "auto must be resolved first")
    }
}

/// Engine options beyond the five knobs: one value per engine that has any.
public struct EngineOptions: Sendable, Hashable {
    /// The io_uring engine's settings.
    public var uring: URingOptions = URingOptions()
    /// io_uring and kernel AIO: whether the block layer may merge the requests of one submit call
    /// (see `RequestMerging`; default `auto`: requests of 128 KiB and more reach the device whole).
    public var requestMerging: RequestMerging = .auto
    /// The device model of the `sim` engine.
    package var simulation: SimulatedDevice?
    /// Records every call into the handle's queues (see `QueueRecorder`), for tests of the knobs.
    package var recorder: QueueRecorder?

    /// Creates the options: io_uring's, and request merging for the kernel engines.
    public init(uring: URingOptions = URingOptions(), requestMerging: RequestMerging = .auto) {
        self.uring = uring
        self.requestMerging = requestMerging
    }
}

/// The io_uring engine's settings.
public struct URingOptions: Sendable, Hashable {
    /// Let a kernel thread poll the submission queue (`IORING_SETUP_SQPOLL`).
    public var sqpoll: Bool = false
    /// Register buffers with the ring (`READ_FIXED`/`WRITE_FIXED`) when the kernel and the memlock
    /// limit allow.
    public var registerResources: Bool = true
    /// Also register the file descriptors. Off by default: on the development machine (kernel 6.18,
    /// ext4 on virtio) fixed files made 128K direct writes about 30% slower.
    public var registerFiles: Bool = false
    /// Ring size to ask for; nil asks for the queue depth. When the ring is smaller than the queue
    /// depth (asked for, or because the kernel gave less), requests in flight are capped at what the
    /// completion ring holds and `pathDescription` says so. For tests of that path.
    @_spi(Testing) public var ringEntries: Int?
    /// Behave as if buffer registration failed, for tests of the fallback path.
    @_spi(Testing) public var simulateRegistrationFailure = false

    /// Creates io_uring settings (by default: no SQPOLL, buffers registered, files not).
    public init(sqpoll: Bool = false, registerResources: Bool = true, registerFiles: Bool = false) {
        self.sqpoll = sqpoll
        self.registerResources = registerResources
        self.registerFiles = registerFiles
    }
}

/// Probes which engines work here, once per process, and why the others do not.
package enum EngineProbe {
    /// The outcome of probing one engine.
    package struct Result: Sendable, Equatable {
        /// Whether a queue could be created.
        package var works: Bool
        /// Why not, when it does not work.
        package var reason: String?
    }

    /// Engines the probe reports as refused, with the reason it gives: the tool sets them from
    /// its environment (`AIO_BENCH_REFUSE_ENGINES`), tests directly, to exercise the fallback path.
    package static let refused = Mutex<(kinds: Set<EngineKind>, reason: String)>(([], ""))

    /// Probes `kind` (cached per process; `refused` is read each time).
    package static func probe(_ kind: EngineKind) -> Result {
        let (kinds, why) = refused.withLock { $0 }
        if kinds.contains(kind) { return Result(works: false, reason: why) }
        switch kind {
        case .auto: return Result(works: true, reason: nil)
        case .posix, .null: return Result(works: true, reason: nil)
        case .sim: return Result(works: true, reason: nil)
        case .uring: return cached.uring
        case .aio: return cached.aio
        }
    }

    private static let cached: (uring: Result, aio: Result) = {
        (tryCreate(.uring), tryCreate(.aio))
    }()

    private static func tryCreate(_ kind: EngineKind) -> Result {
        do {
            _ = try makeQueue(kind: kind, depth: 4, options: EngineOptions(uring: URingOptions(registerResources: false)))
            return Result(works: true, reason: nil)
        } catch {
            var reason = error.description
            if kind == .uring, let disabled = readSmallFile("/proc/sys/kernel/io_uring_disabled"),
               disabled.first != "0" {
                reason += " (sysctl kernel.io_uring_disabled = \(disabled.filter { $0.isNumber }))"
            }
            return Result(works: false, reason: reason)
        }
    }

    /// Resolves `.auto` to the first engine that works, with the reasons others were skipped.
    package static func resolve(_ kind: EngineKind) -> (kind: EngineKind, skipped: [String]) {
        guard kind == .auto else { return (kind, []) }
        var skipped: [String] = []
        for candidate in [EngineKind.uring, .aio] {
            let result = probe(candidate)
            if result.works { return (candidate, skipped) }
            skipped.append("\(candidate.rawValue): \(result.reason ?? "unavailable")")
        }
        return (.posix, skipped)
    }
}

/// Makes `count` queues of the configuration's engine; with `.auto`, the first of the probed best,
/// kernel AIO and POSIX whose queues can all be made. Returns the engine used, the queues (wrapped by
/// the configuration's fault plan and recorder, when set) and, one line each, why better engines
/// were skipped.
///
/// - Throws: the last engine's error when none could be made.
func makeEngineQueues(count: Int, _ config: HandleConfig) throws(AsyncIOError) -> (EngineKind, [IOQueue], [String]) {
    let (resolved, skipped) = EngineProbe.resolve(config.engine)
    var candidates = [resolved]
    if config.engine == .auto && resolved != .posix {
        candidates += [EngineKind.aio, .posix].filter { $0 != resolved }
    }
    var fallbacks = skipped
    var lastError: AsyncIOError?
    let faults = FaultCounter()
    for kind in candidates {
        do {
            var queues: [IOQueue] = []
            for _ in 0..<count {
                var queue = try makeQueue(kind: kind, depth: config.queueDepth, options: config.engineOptions,
                                          config: config)
                if let plan = config.faults {
                    queue = FaultInjectingQueue(inner: queue, plan: plan, counter: faults)
                }
                queues.append(queue)
            }
            return (kind, config.engineOptions.recorder?.wrap(queues) ?? queues, fallbacks)
        } catch {
            fallbacks.append("\(kind.rawValue): \(error.description)")
            lastError = error
        }
    }
    throw lastError!
}
