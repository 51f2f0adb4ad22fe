import Glibc

/// The `sim` engine: no data moves to storage; each operation completes when its
/// `SimulatedDevice` model says. Each of the handle's workers serves its slice at
/// `speed / intraOpParallelism`, so an operation of `n` bytes takes `n / speed` seconds of real
/// time, `speed` being the model's for the configuration and operation times the operation's
/// noise and drift factor. Reads fill the buffer with `SimulatedDevice.patternWord`, so a write of
/// that pattern (`AlignedBuffer.fillPattern`) reads back equal.
final class SimulatedQueue: IOQueue {
    let kind = EngineKind.sim
    let capabilities: QueueCapabilities = [.keepsRequestsInFlight]
    let capacity: Int
    private let model: SimulatedDevice
    private let config: HandleConfig
    private var bytesPerNanosecond = 1.0
    private var lastDue: UInt64 = 0
    /// Requests in flight with the time each completes, in completion order.
    private var pending: [(due: UInt64, completion: IOCompletion)] = []
    private var head = 0

    init(depth: Int, config: HandleConfig) throws(AsyncIOError) {
        guard let model = config.engineOptions.simulation else {
            throw .invalid("create engine", "the sim engine needs a device model, which only the benchmark "
                + "tool supplies")
        }
        try model.validate()
        self.model = model
        self.config = config
        capacity = depth
        pending.reserveCapacity(depth)
    }

    var pathDescription: String {
        "simulated device (model seed \(model.seed), noise \(model.noise), drift \(model.drift)/min; no I/O)"
    }

    func begin(_ slice: Slice) {
        let gibps = model.gibps(slice.operation, config)
            * SimulationNoise.shared.factor(model, operation: slice.operationID)
        bytesPerNanosecond = gibps * 1_073_741_824 / 1e9 / Double(max(1, config.intraOpParallelism))
        lastDue = monotonicNanos()
    }

    func prepare(memory: UnsafeMutableRawBufferPointer, region: UnsafeMutableRawBufferPointer?, fds: [Int32]) {}

    func submit(_ requests: UnsafeBufferPointer<IORequest>, path: String) throws(AsyncIOError) -> Int {
        var due = max(monotonicNanos(), lastDue)
        for r in requests {
            if r.operation == .read {
                SimulatedQueue.fillPattern(UnsafeMutableRawBufferPointer(start: r.address, count: r.length),
                                           fileOffset: r.offset)
            }
            due &+= UInt64(Double(r.length) / bytesPerNanosecond)
            pending.append((due, IOCompletion(tag: r.tag, result: r.length)))
        }
        lastDue = due
        return requests.count
    }

    func reap(minimum: Int, into out: inout [IOCompletion], path: String) throws(AsyncIOError) {
        let waiting = pending.count - head
        if minimum > 0, waiting > 0 {
            let target = pending[head + min(minimum, waiting) - 1].due
            let now = monotonicNanos()
            if target > now {
                let wait = target - now
                var request = timespec(tv_sec: Int(wait / 1_000_000_000), tv_nsec: Int(wait % 1_000_000_000))
                var remaining = timespec()
                while nanosleep(&request, &remaining) != 0 && currentErrno() == EINTR { request = remaining }
            }
        }
        let now = monotonicNanos()
        while head < pending.count, pending[head].due <= now {
            out.append(pending[head].completion)
            head += 1
        }
        if head == pending.count {
            pending.removeAll(keepingCapacity: true)
            head = 0
        }
    }

    /// Writes the pattern of the file range starting at `fileOffset` into `memory`.
    static func fillPattern(_ memory: UnsafeMutableRawBufferPointer, fileOffset: Int64) {
        var index = 0
        // Whole words at an aligned file offset and memory address: a tight loop.
        if fileOffset & 7 == 0, let base = memory.baseAddress, Int(bitPattern: base) & 7 == 0 {
            let words = memory.count / 8
            let p = base.bindMemory(to: UInt64.self, capacity: words)
            let first = fileOffset >> 3
            for i in 0..<words { p[i] = SimulatedDevice.patternWord(at: (first + Int64(i)) << 3) }
            index = words * 8
        }
        while index < memory.count {
            let offset = fileOffset + Int64(index)
            let word = SimulatedDevice.patternWord(at: offset)
            let inWord = Int(offset & 7)
            if inWord == 0 && memory.count - index >= 8 {
                memory.storeBytes(of: word, toByteOffset: index, as: UInt64.self)
                index += 8
            } else {
                memory[index] = UInt8(truncatingIfNeeded: word >> (UInt64(inWord) * 8))
                index += 1
            }
        }
    }
}

extension AlignedBuffer {
    /// Fills the buffer with what a simulated read of a file from `fileOffset` returns, so that
    /// writing it and reading it back through the `sim` engine compares equal.
    package func fillPattern(fileOffset: Int64 = 0) {
        withUnsafeMutableBytes { SimulatedQueue.fillPattern($0, fileOffset: fileOffset) }
    }
}
