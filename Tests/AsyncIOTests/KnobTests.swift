@_spi(Testing) import AsyncIO
import Testing

/// What each of DeepNVMe's knobs does, as the kernel queues see it: a recording queue over the null
/// engine logs every submit call, every reap, the requests in flight after each, and the file range of
/// every request, per worker. Each case is drawn from a seed (named in every failure message); each
/// assertion fails when the scheduler ignores the knob it is about.
@Suite("Knobs, as the queues see them")
struct KnobTests {
    static let seeds = TestSeed.seeds(8)
    /// (single submit, overlap events), every combination.
    static let disciplines = [(false, false), (false, true), (true, false), (true, true)]

    @Test("requests in flight never exceed the queue depth, and reach it", arguments: seeds)
    func queueDepth(seed: UInt64) throws {
        let c = KnobCase(seed: seed)
        for (single, overlap) in Self.disciplines {
            for log in try c.run(single: single, overlap: overlap) {
                let what = "\(c); single \(single), overlap \(overlap), worker \(log.worker)"
                #expect(log.maxInFlight <= c.depth, "\(log.maxInFlight) in flight: \(what)")
                // Every worker has at least twice the depth in requests: its queue fills up.
                #expect(log.requests.count >= 2 * c.depth, "too little work to fill the queue: \(what)")
                #expect(log.maxInFlight == c.depth, "at most \(log.maxInFlight) in flight: \(what)")
            }
        }
    }

    @Test("single submit: one submit call per request", arguments: seeds)
    func singleSubmit(seed: UInt64) throws {
        let c = KnobCase(seed: seed)
        for overlap in [false, true] {
            for log in try c.run(single: true, overlap: overlap) {
                let what = "\(c); overlap \(overlap), worker \(log.worker)"
                #expect(log.submitSizes.allSatisfy { $0 == 1 }, "submit calls carried \(log.submitSizes): \(what)")
                #expect(log.submitSizes.count == log.requests.count,
                        "\(log.submitSizes.count) submit calls for \(log.requests.count) requests: \(what)")
            }
        }
    }

    @Test("batch submit: one submit call per batch, carrying every request that fits", arguments: seeds)
    func batchSubmit(seed: UInt64) throws {
        let c = KnobCase(seed: seed)
        for overlap in [false, true] {
            for log in try c.run(single: false, overlap: overlap) {
                let what = "\(c); overlap \(overlap), worker \(log.worker)"
                var issued = 0
                for case .submit(let carried, _, let inFlight) in log.events {
                    issued += carried
                    #expect(inFlight == c.depth || issued == log.requests.count,
                            "a submit call of \(carried) left the queue at \(inFlight) with requests to go: \(what)")
                }
                #expect(log.submitSizes.count < log.requests.count,
                        "\(log.submitSizes.count) submit calls for \(log.requests.count) requests: \(what)")
                if !overlap {
                    let batches = (log.requests.count + c.depth - 1) / c.depth
                    #expect(log.submitSizes.count == batches, "batches \(log.submitSizes): \(what)")
                }
            }
        }
    }

    @Test("sequential: the whole batch completes before the next submit", arguments: seeds)
    func sequential(seed: UInt64) throws {
        let c = KnobCase(seed: seed)
        for single in [false, true] {
            for log in try c.run(single: single, overlap: false) {
                let what = "\(c); single \(single), worker \(log.worker)"
                let before = Self.inFlightBeforeSubmitsAfterReaps(log)
                #expect(!before.isEmpty, "one batch only: \(what)")
                #expect(before.allSatisfy { $0 == 0 }, "in flight before a next batch: \(before): \(what)")
            }
        }
    }

    @Test("overlap: the queue is topped up as soon as a request completes", arguments: seeds)
    func overlap(seed: UInt64) throws {
        let c = KnobCase(seed: seed)
        for single in [false, true] {
            for log in try c.run(single: single, overlap: true) {
                let what = "\(c); single \(single), worker \(log.worker)"
                let before = Self.inFlightBeforeSubmitsAfterReaps(log)
                #expect(before.contains { $0 > 0 }, "never topped up while requests were in flight: \(what)")
                // Every reap that frees a slot while requests remain is followed by a submit.
                var issued = 0
                for (event, next) in zip(log.events, log.events.dropFirst()) {
                    switch event {
                    case .submit(let carried, _, _):
                        issued += carried
                    case .reap(_, let completed, let inFlight):
                        if completed > 0 && issued < log.requests.count {
                            #expect(next.isSubmit, "a reap left \(inFlight) in flight and was not topped up: \(what)")
                        }
                    }
                }
            }
        }
    }

    @Test("intra-op parallelism N: N workers, one contiguous slice each, tiling the whole range", arguments: seeds)
    func parallelism(seed: UInt64) throws {
        let c = KnobCase(seed: seed)
        for (single, overlap) in Self.disciplines {
            let logs = try c.run(single: single, overlap: overlap)
            let what = "\(c); single \(single), overlap \(overlap)"
            #expect(logs.map(\.worker) == Array(0..<c.parallel), "workers with a queue: \(what)")
            var slices: [FileRange] = []
            for log in logs {
                guard let first = log.requests.first else {
                    Issue.record("worker \(log.worker) got no request: \(what)")
                    continue
                }
                var end = first.offset
                for request in log.requests {
                    #expect(request.offset == end,
                            "worker \(log.worker) jumped to \(request.offset) from \(end): \(what)")
                    end = request.offset + Int64(request.length)
                }
                slices.append(FileRange(offset: first.offset, length: Int(end - first.offset)))
            }
            #expect(slices.first?.offset == c.offset, "the first slice: \(what)")
            for (a, b) in zip(slices, slices.dropFirst()) {
                #expect(a.offset + Int64(a.length) == b.offset, "slices \(a) and \(b) do not meet: \(what)")
            }
            #expect(slices.reduce(0) { $0 + $1.length } == c.size, "the slices do not cover the range: \(what)")
            #expect(slices == c.expectedSlices, "size / N each, the remainder to the last: \(what)")
        }
    }

    @Test("a slice of n bytes is ceil(n / block size) requests, the last one the tail", arguments: seeds)
    func requestsPerSlice(seed: UInt64) throws {
        let c = KnobCase(seed: seed)
        for (single, overlap) in Self.disciplines {
            let logs = try c.run(single: single, overlap: overlap)
            #expect(logs.count == c.parallel, "\(c)")
            for (log, slice) in zip(logs, c.expectedSlices) {
                let what = "\(c); single \(single), overlap \(overlap), worker \(log.worker)"
                let expected = (slice.length + c.blockSize - 1) / c.blockSize
                let lengths = log.requests.map(\.length)
                #expect(lengths.count == expected, "\(lengths.count) requests for \(slice.length) bytes: \(what)")
                #expect(lengths.dropLast().allSatisfy { $0 == c.blockSize }, "request sizes \(lengths): \(what)")
                #expect(lengths.last == slice.length - c.blockSize * (expected - 1), "the tail: \(what)")
            }
        }
    }

    /// Requests in flight just before each submit call that follows a reap.
    static func inFlightBeforeSubmitsAfterReaps(_ log: QueueRecorder.Log) -> [Int] {
        zip(log.events, log.events.dropFirst()).compactMap { event, next in
            !event.isSubmit && next.isSubmit ? event.inFlight : nil
        }
    }
}

/// A contiguous range of the file.
struct FileRange: Equatable, CustomStringConvertible {
    var offset: Int64
    var length: Int
    var description: String { "\(offset)+\(length)" }
}

/// One configuration of the knobs drawn from a seed: block size, queue depth, parallelism, size and
/// file offset vary; every worker gets at least two queues' worth of requests and the size an uneven tail.
struct KnobCase: Sendable, CustomStringConvertible {
    let seed: UInt64
    let blockSize: Int
    let depth: Int
    let parallel: Int
    let size: Int
    let offset: Int64
    /// Completions handed back per reap, fewer than the depth: requests finish a few at a time.
    let completionsPerReap: Int

    init(seed: UInt64) {
        self.seed = seed
        var rng = SplitMix64(seed: seed)
        blockSize = [512, 1000, 4096, 12_293, 65_536].randomElement(using: &rng)!
        depth = Int.random(in: 2...16, using: &rng)
        parallel = Int.random(in: 2...6, using: &rng)
        let perWorker = blockSize * depth * Int.random(in: 2...3, using: &rng)
        size = perWorker * parallel + Int.random(in: 0..<(blockSize * parallel), using: &rng)
        offset = Int64(Int.random(in: 0...(1 << 20), using: &rng))
        completionsPerReap = Int.random(in: 1..<depth, using: &rng)
    }

    var description: String {
        "seed \(seed): \(size) bytes at offset \(offset), block \(blockSize), depth \(depth), "
            + "parallelism \(parallel), at most \(completionsPerReap) completions per reap"
    }

    /// The slice each worker must get: `size / parallel` bytes each, the remainder to the last.
    var expectedSlices: [FileRange] {
        let base = size / parallel
        return (0..<parallel).map { i in
            FileRange(offset: offset + Int64(i * base), length: i == parallel - 1 ? size - base * (parallel - 1) : base)
        }
    }

    /// Writes `size` bytes at `offset` on the null engine, without O_DIRECT (no alignment moves a
    /// cut), and returns each worker's log in worker order.
    func run(single: Bool, overlap: Bool) throws -> [QueueRecorder.Log] {
        let recorder = QueueRecorder(completionsPerReap: completionsPerReap)
        var options = EngineOptions()
        options.recorder = recorder
        let handle = try AIOHandle(HandleConfig(
            blockSize: blockSize, queueDepth: depth, singleSubmit: single, overlapEvents: overlap,
            intraOpParallelism: parallel, engine: .null, direct: false, engineOptions: options))
        let dir = ScratchFolder("knobs")
        let buffer = try AlignedBuffer(count: size, lock: false, hugePages: false)
        try DeepSpeedHandle(handle).pwrite(buffer, filename: dir.file("k"), async: false, fileOffset: offset)
        return recorder.logs.sorted { $0.worker < $1.worker }
    }
}
