import AsyncIO
import Dispatch
import Foundation
import Glibc
import Testing

/// Load and concurrency: many pending operations, many workers, deep queues, one handle shared
/// by several Swift tasks, and no descriptor, kernel context or memory growth over rounds.
///
/// Each case runs its work on a thread or task of its own and fails when that has not finished
/// within `loadTimeout` seconds: a bound against deadlocks, not a speed assertion.
///
/// The cases run one after another: the 1,000 pending operations hold up to 2,000 descriptors,
/// which would drown the descriptor count of the leak check.
@Suite("Load and concurrency", .serialized)
struct LoadTests {
    /// Seconds after which a case counts as hung.
    static let loadTimeout = 120.0

    @Test("1,000 asynchronous reads pending on one handle; wait() returns 1000", arguments: realEngines)
    func thousandPendingReads(engine: EngineKind) throws {
        let dir = ScratchFolder("load-r")
        let path = dir.file("source")
        let piece = 16 << 10
        let count = 1000
        let source = try randomBuffer(piece * count, seed: 41)
        plainWrite(path, source.bytes())
        let handle = try AIOHandle(HandleConfig(blockSize: 4096, queueDepth: 8, intraOpParallelism: 2, engine: engine))
        let sinks = try (0..<count).map { _ in try AlignedBuffer(count: piece, lock: false) }
        let waits = try runWithTimeout(Self.loadTimeout) {
            for (i, sink) in sinks.enumerated() {
                try DeepSpeedHandle(handle).asyncPread(sink, filename: path, fileOffset: Int64(i * piece))
            }
            // The second wait() finds nothing left over.
            return [try DeepSpeedHandle(handle).wait(), try DeepSpeedHandle(handle).wait()]
        }
        #expect(waits != nil, "1,000 pending reads did not finish within \(Self.loadTimeout) s (deadlock?)")
        guard let waits else { return }
        #expect(waits == [count, 0])
        let expected = source.bytes()
        for (i, sink) in sinks.enumerated() {
            #expect(sink.bytes() == Array(expected[(i * piece)..<((i + 1) * piece)]), "piece \(i)")
        }
    }

    @Test("1,000 asynchronous writes pending on one handle land at their offsets", arguments: realEngines)
    func thousandPendingWrites(engine: EngineKind) throws {
        let dir = ScratchFolder("load-w")
        let path = dir.file("target")
        let piece = 8 << 10
        let count = 1000
        let sources = try (0..<count).map { try randomBuffer(piece, seed: UInt64(1000 + $0)) }
        let handle = try AIOHandle(HandleConfig(blockSize: 4096, queueDepth: 4, intraOpParallelism: 4, engine: engine))
        let completed = try runWithTimeout(Self.loadTimeout) {
            for (i, source) in sources.enumerated() {
                try DeepSpeedHandle(handle).asyncPwrite(source, filename: path, fileOffset: Int64(i * piece))
            }
            return try DeepSpeedHandle(handle).wait()
        }
        #expect(completed != nil, "1,000 pending writes did not finish within \(Self.loadTimeout) s (deadlock?)")
        #expect(completed == count)
        let written = plainRead(path)
        #expect(written.count == piece * count)
        guard written.count == piece * count else { return }
        for (i, source) in sources.enumerated() {
            #expect(Array(written[(i * piece)..<((i + 1) * piece)]) == source.bytes(), "piece \(i)")
        }
    }

    @Test("64 workers split one operation and every byte arrives", arguments: realEngines)
    func sixtyFourWorkers(engine: EngineKind) throws {
        let dir = ScratchFolder("load-64")
        let path = dir.file("wide")
        // Not a multiple of 64 slices: the remainder goes to the last worker.
        let source = try randomBuffer((8 << 20) + 12_288, seed: 64)
        let handle = try AIOHandle(HandleConfig(blockSize: 16 << 10, queueDepth: 4, intraOpParallelism: 64,
                                                engine: engine))
        #expect(handle.intraOpParallelism == 64)
        let sink = try AlignedBuffer(count: source.count, lock: false)
        let matches = try runWithTimeout(Self.loadTimeout) {
            var same: [Bool] = []
            for _ in 0..<3 {
                try handle.submitWrite(from: source, to: path).wait()
                sink.withUnsafeMutableBytes { _ = memset($0.baseAddress!, 0xA5, $0.count) }
                try handle.submitRead(into: sink, from: path).wait()
                same.append(sink.contentsEqual(source))
            }
            return same
        }
        #expect(matches != nil, "64 workers did not finish within \(Self.loadTimeout) s (deadlock?)")
        #expect(matches == [true, true, true])
        #expect(plainRead(path) == source.bytes())
    }

    @Test("queue depth 1,024: more requests than fit, all in order", arguments: realEngines)
    func deepQueue(engine: EngineKind) throws {
        let dir = ScratchFolder("load-qd")
        let path = dir.file("deep")
        // 4 KiB blocks over 12 MiB: 3,072 requests, three queues full.
        let source = try randomBuffer(12 << 20, seed: 1024)
        for overlap in [true, false] {
            let handle = try AIOHandle(HandleConfig(blockSize: 4096, queueDepth: 1024, overlapEvents: overlap,
                                                    engine: engine))
            #expect(handle.queueDepth == 1024)
            let sink = try AlignedBuffer(count: source.count, lock: false)
            let done = try runWithTimeout(Self.loadTimeout) {
                try handle.submitWrite(from: source, to: path).wait()
                try handle.submitRead(into: sink, from: path).wait()
                return true
            }
            #expect(done == true, "queue depth 1024 (overlap \(overlap)) did not finish within \(Self.loadTimeout) s")
            #expect(sink.contentsEqual(source), "overlap \(overlap)")
        }
    }

    @Test("one handle shared by several Swift tasks: every task reads back its own data", arguments: realEngines)
    func sharedBetweenTasks(engine: EngineKind) async throws {
        let dir = ScratchFolder("load-tasks")
        let handle = try AIOHandle(HandleConfig(blockSize: 64 << 10, queueDepth: 8, intraOpParallelism: 3,
                                                engine: engine))
        let tasks = 8
        let rounds = 6
        let total = try await finishesWithin(Self.loadTimeout) {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for t in 0..<tasks {
                    group.addTask {
                        var checked = 0
                        let path = dir.file("task-\(t)")
                        for round in 0..<rounds {
                            let size = (1 << 20) + 4096 * (t + round)
                            let source = try randomBuffer(size, seed: UInt64(t * 100 + round + 1))
                            let sink = try AlignedBuffer(count: size, lock: false)
                            if (t + round) % 2 == 0 {
                                // Swift concurrency API.
                                try await handle.write(from: source, to: path)
                                try await handle.read(into: sink, from: path)
                            } else {
                                // The blocking API from another task at the same time.
                                try handle.submitWrite(from: source, to: path).wait()
                                try handle.submitRead(into: sink, from: path).wait()
                            }
                            if sink.contentsEqual(source) { checked += 1 }
                        }
                        return checked
                    }
                }
                var total = 0
                for try await n in group { total += n }
                return total
            }
        }
        #expect(total != nil, "tasks sharing one handle did not finish within \(Self.loadTimeout) s (deadlock?)")
        #expect(total == tasks * rounds, "every task and round reads back what it wrote")
    }

    @Test("asynchronous operations from several threads and wait() from each: counts add up")
    func asyncFromThreads() throws {
        let dir = ScratchFolder("load-threads")
        let path = dir.file("shared")
        let piece = 64 << 10
        let source = try randomBuffer(piece * 32, seed: 77)
        plainWrite(path, source.bytes())
        let handle = try AIOHandle(HandleConfig(blockSize: 16 << 10, queueDepth: 8, intraOpParallelism: 2))
        let counted = Counter()
        let done = try runWithTimeout(Self.loadTimeout) {
            DispatchQueue.concurrentPerform(iterations: 4) { worker in
                do {
                    let sinks = try (0..<50).map { _ in try AlignedBuffer(count: piece, lock: false) }
                    for (i, sink) in sinks.enumerated() {
                        try DeepSpeedHandle(handle).asyncPread(sink, filename: path, fileOffset: Int64((i % 32) * piece))
                    }
                    // Another thread's wait() may collect some of these: the totals must add up.
                    counted.add(try DeepSpeedHandle(handle).wait())
                    for (i, sink) in sinks.enumerated() {
                        let at = (i % 32) * piece
                        let same = source.withUnsafeBytes { s in
                            sink.withUnsafeBytes { memcmp(s.baseAddress! + at, $0.baseAddress!, piece) == 0 }
                        }
                        if !same { counted.mismatch() }
                    }
                } catch {
                    counted.fail("\(error)")
                }
            }
            return true
        }
        #expect(done == true, "threads sharing one handle did not finish within \(Self.loadTimeout) s (deadlock?)")
        #expect(counted.total == 200)
        #expect(counted.mismatches == 0)
        #expect(counted.errors.isEmpty, "\(counted.errors)")
    }

    /// Repeated rounds of creating handles on every engine, doing I/O and dropping them: no
    /// descriptor, io_uring instance, AIO ring or file descriptor into the scratch folder is
    /// left, and resident memory stays within a generous bound.
    ///
    /// Other suites run in the same process at the same time, so the totals get slack; a leak
    /// of one descriptor or ring per worker per round is far above it.
    @Test("no descriptor, kernel context or memory growth across rounds")
    func noLeaks() throws {
        let dir = ScratchFolder("load-leak")
        let path = dir.file("leak")
        let size = 4 << 20
        let source = try randomBuffer(size, seed: 5)
        let rounds = 24
        let workers = 4
        let engines = realEngines
        #expect(rounds * engines.count * 20 > 2 * 160, "the memory bound must stay well below what a leak adds")
        // One warm-up round so lazily created process state (probes, thread pools) is in place.
        let round: @Sendable (Int) throws -> Void = { index in
            for engine in engines {
                let handle = try AIOHandle(HandleConfig(blockSize: 256 << 10, queueDepth: 8,
                                                        intraOpParallelism: workers, engine: engine))
                let buffers = try (0..<4).map { _ in try AlignedBuffer(count: size, lock: false) }
                try handle.submitWrite(from: source, to: path).wait()
                for b in buffers { try DeepSpeedHandle(handle).asyncPread(b, filename: path) }
                guard try DeepSpeedHandle(handle).wait() == buffers.count, buffers.allSatisfy({ $0.contentsEqual(source) }) else {
                    throw LoadFailure(description: "round \(index), \(engine): wrong count or data")
                }
                // Once wait() has returned, no worker holds an operation's file open.
                let open = ProcessSnapshot().fdsInto(dir.path)
                guard open == 0 else {
                    throw LoadFailure(description: "round \(index), \(engine): \(open) descriptors of finished "
                        + "operations still open after wait()")
                }
                // A failing operation must not leak either.
                do {
                    try handle.submitRead(into: buffers[0], from: dir.file("missing")).wait()
                    throw LoadFailure(description: "reading a missing file succeeded")
                } catch let error as AsyncIOError {
                    guard error.errno == .noSuchFile else { throw error }
                }
            }
        }
        let snapshots = try runWithTimeout(Self.loadTimeout) {
            try round(0)
            let before = ProcessSnapshot()
            for i in 1...rounds { try round(i) }
            return (before, ProcessSnapshot())
        }
        #expect(snapshots != nil, "handle rounds did not finish within \(Self.loadTimeout) s (deadlock?)")
        guard let (before, last) = snapshots else { return }
        let perRoundHandles = engines.count * workers
        #expect(last.fdsInto(dir.path) == 0, "descriptors still open on the scratch folder: \(last.fdTargets)")
        // Other suites run beside this one and open descriptors, rings and memory of their own: allow
        // for them. A leak of one ring per worker per round adds rounds × workers = 96 rings of
        // an engine, and of one file per operation 5 × 2 × engines × rounds descriptors.
        let slack = 40
        #expect(rounds * workers > slack * 2, "the slack must stay well below what a leak adds")
        // Each round allocates 5 × 4 MiB per engine; keeping them would add about
        // rounds × engines × 20 MiB. Allow 160 MiB for everything else in the process.
        func growth(_ s: ProcessSnapshot) -> [String] {
            var found: [String] = []
            if s.ioUringFDs > before.ioUringFDs + slack {
                found.append("io_uring descriptors grew from \(before.ioUringFDs) to \(s.ioUringFDs)")
            }
            if s.aioRings > before.aioRings + slack {
                found.append("kernel AIO rings grew from \(before.aioRings) to \(s.aioRings)")
            }
            if s.fdCount > before.fdCount + slack * 2 {
                found.append("descriptors grew from \(before.fdCount) to \(s.fdCount) over \(rounds) rounds of "
                    + "\(perRoundHandles) workers")
            }
            let grown = s.residentBytes - before.residentBytes
            if grown >= 160 << 20 { found.append("resident memory grew by \(grown >> 20) MiB over \(rounds) rounds") }
            return found
        }
        // A suite beside this one may hold hundreds of descriptors or megabytes for a moment (the
        // thousand-pending load test, a 320 MiB footprint): look again for up to 10 s. A leak stays.
        var found = growth(last)
        for _ in 0..<20 where !found.isEmpty {
            Thread.sleep(forTimeInterval: 0.5)
            found = growth(ProcessSnapshot())
        }
        #expect(found.isEmpty, "\(found.joined(separator: "; "))")
    }
}

// MARK: - Helpers

/// Runs `body` on a thread of its own; returns false when it has not finished after `seconds`
/// (the thread is then left behind: a hang, which the caller reports). Errors are rethrown.
func runWithTimeout<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () throws -> T) throws -> T? {
    let outcome = Outcome<T>()
    let thread = Thread {
        do { outcome.value = try body() } catch { outcome.error = error }
        outcome.done.signal()
    }
    thread.stackSize = 4 << 20
    thread.start()
    guard outcome.done.wait(timeout: .now() + seconds) == .success else { return nil }
    if let error = outcome.error { throw error }
    return outcome.value
}

/// Runs `body` in a detached task; returns false when it has not finished after `seconds`.
func finishesWithin<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T)
    async throws -> T? {
    let once = Once()
    return try await withCheckedThrowingContinuation { (c: CheckedContinuation<T?, any Error>) in
        Task.detached {
            do {
                let value = try await body()
                once.run { c.resume(returning: value) }
            } catch {
                once.run { c.resume(throwing: error) }
            }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            once.run { c.resume(returning: nil) }
        }
    }
}

private final class Outcome<T>: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    var value: T?
    var error: (any Error)?
}

struct LoadFailure: Error, CustomStringConvertible {
    var description: String
}

private final class Once: @unchecked Sendable {
    private let lock = NSLock()
    private var fired = false
    func run(_ body: () -> Void) {
        let first = lock.withLock {
            defer { fired = true }
            return !fired
        }
        if first { body() }
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var _total = 0
    private var _mismatches = 0
    private var _errors: [String] = []
    func add(_ n: Int) { lock.withLock { _total += n } }
    func mismatch() { lock.withLock { _mismatches += 1 } }
    func fail(_ e: String) { lock.withLock { _errors.append(e) } }
    var total: Int { lock.withLock { _total } }
    var mismatches: Int { lock.withLock { _mismatches } }
    var errors: [String] { lock.withLock { _errors } }
}

/// Open descriptors, kernel AIO rings and resident memory of this process.
struct ProcessSnapshot: Sendable {
    var fdTargets: [String] = []
    var aioRings = 0
    var residentBytes = 0

    init() {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        fdTargets = fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0) }
        if let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) {
            aioRings = maps.split(separator: "\n").filter { $0.contains("/[aio]") }.count
        }
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
           let kib = line.split(whereSeparator: \.isWhitespace).dropFirst().first.flatMap({ Int($0) }) {
            residentBytes = kib * 1024
        }
    }

    var fdCount: Int { fdTargets.count }
    var ioUringFDs: Int { fdTargets.filter { $0.contains("io_uring") }.count }
    func fdsInto(_ folder: String) -> Int { fdTargets.filter { $0.hasPrefix(folder) }.count }
}
