import AsyncIO
import Foundation

extension BenchRunner {
    /// The striped set's name in each folder: ds_io's file name without the task number on one node;
    /// across ranks (`--mpi`), ranks other than 0 add theirs, so ranks sharing folders never share a set.
    func stripeSetName(_ operation: IOOperation) -> String {
        "_aio_\(operation.rawValue)_\(plan.ioSize).pt" + (plan.firstTask == 0 ? "" : "-task\(plan.firstTask)")
    }

    /// Measures one configuration striped over the plan's folders (`io --stripe`): one task, one buffer,
    /// one `StripedHandle` with `intraOpParallelism` workers per folder; `loops` timed operations after
    /// `warmupLoops` untimed ones, as `run` does for one task per folder.
    func runStriped(_ operation: IOOperation, config asked: HandleConfig, recordLatency: Bool)
        throws(BenchError) -> BenchResult {
        guard let stripeSize = plan.stripeSize else { throw .usage("--stripe: no stripe size") }
        try plan.validate(asked)
        let config = try plan.resolve(asked)
        let folders = plan.targets.map(\.folder)
        let layout: StripeLayout
        let handle: StripedHandle
        do {
            layout = try StripeLayout(folders: folders, stripeSize: stripeSize)
            handle = try StripedHandle(layout, config: config)
        } catch {
            throw BenchError(error)
        }
        try allocate(engine: config.engine)
        let buffer = buffers[0]
        let name = stripeSetName(operation)
        let paths = layout.memberPaths(name, totalBytes: plan.ioSize)
        if operation == .read {
            try prepareStripedRead(layout, name: name, paths: paths, direct: config.direct)
        } else {
            fillForWriting(simulated: false)
        }
        let histograms = HistogramSet(tasks: 1, workers: layout.memberCount * config.intraOpParallelism)
        var loopSeconds: [Double] = []
        var perMember = StripeFigures.Accumulator(folders: folders, paths: paths)
        var cpuStart = SystemInfo.cpuTime()
        var ioNanos: UInt64 = 0
        var removalNanos: UInt64 = 0
        var requests = 0
        var removed = false
        for loop in 0..<(plan.warmupLoops + plan.loops) {
            let measured = loop >= plan.warmupLoops || plan.includeWarmupTime
            if loop == plan.warmupLoops || (loop == 0 && plan.includeWarmupTime) { cpuStart = SystemInfo.cpuTime() }
            let fresh = plan.writeMode == .freshFileEachLoop
            if operation == .write && (fresh || !removed) {
                // As `run`: ds_io's overwrite mode removes the files once, the fresh-file mode every loop.
                let removalStart = monotonicNanos()
                for path in paths {
                    FileSystem.removeFileIfPresent(path)
                    track(path)
                }
                removed = true
                removalNanos += monotonicNanos() - removalStart
            }
            loopWillStart?(loop, paths)
            let sink = measured && recordLatency
                ? LatencySink { worker, ns in histograms.record(task: 0, worker: worker, ns) } : nil
            let submittedBefore = handle.requestsSubmitted
            let start = monotonicNanos()
            let transfer: IOTransfer
            do throws(AsyncIOError) {
                let ticket = operation == .read
                    ? try handle.submitRead(into: buffer, from: name, latency: sink)
                    // The files are created when the operation starts: under the scratch registry's gate.
                    : try ScratchFiles.shared.creating { () throws(AsyncIOError) in
                        try handle.submitWrite(from: buffer, to: name, truncate: fresh, latency: sink)
                    }
                try ticket.wait()
                // Set once the operation has ended without an error, which `wait()` has just seen.
                transfer = ticket.transfer!
            } catch {
                if operation == .write { for path in paths { ScratchFiles.shared.remove(file: path) } }
                throw BenchError(error)
            }
            let elapsed = monotonicNanos() - start
            ioNanos += elapsed
            if measured {
                requests += handle.requestsSubmitted - submittedBefore
                loopSeconds.append(Double(elapsed) / 1e9)
                perMember.add(transfer)
            }
        }
        let cpuEnd = SystemInfo.cpuTime()
        var validated: Bool?
        if plan.validate { validated = try validateStriped(layout, paths: paths, buffer: buffer) }
        let total = loopSeconds.reduce(0, +)
        return BenchResult(
            operation: operation, ioSize: plan.ioSize, tasks: 1, loops: loopSeconds.count, config: handle.config,
            target: plan.target, writeMode: operation == .write ? plan.writeMode : nil,
            notes: measurementNotes(operation, config: handle.config), enginePath: handle.enginePath, engineFallbacks: handle.engineFallbacks,
            pageLocked: buffer.isLocked, hugePageBytes: taskBuffers.hugePageBytes, bufferBytes: buffer.count,
            taskLoopSeconds: [loopSeconds], taskLatency: total, e2eLatency: total, requests: requests,
            latencyMicros: histograms.percentilesMicros(), cpuUser: cpuEnd.user - cpuStart.user,
            cpuSystem: cpuEnd.system - cpuStart.system, validated: validated, folders: folders,
            ioSeconds: Double(ioNanos) / 1e9, removalSeconds: Double(removalNanos) / 1e9,
            stripe: perMember.figures(stripeSize: layout.stripeSize))
    }

    /// Writes the set the read loops read: random data through a handle of its own, then other random
    /// data into the task buffer, so a read that moved nothing cannot pass `--validate`.
    private func prepareStripedRead(_ layout: StripeLayout, name: String, paths: [String], direct: Bool)
        throws(BenchError) {
        let buffer = buffers[0]
        buffer.fillRandom(seed: 0x5EED_0001)
        do {
            let writer = try StripedHandle(layout, config: HandleConfig(queueDepth: 16, direct: direct))
            for path in paths { track(path) }
            let ticket = try ScratchFiles.shared.creating { () throws(AsyncIOError) in
                try writer.submitWrite(from: buffer, to: name)
            }
            _ = try ticket.wait()
        } catch {
            throw BenchError(error)
        }
        buffer.fillRandom(seed: 0x5EED_0002)
        taskBuffers.contents = .unfilled
    }

    /// Compares the buffer with the member files read back through the page cache, chunk by chunk,
    /// with the round-robin rule worked out here (chunk `k` of the buffer is at offset
    /// `(k / members) * stripe` of member `k % members`), not with the library's; a member file of
    /// another size is not equal.
    func validateStriped(_ layout: StripeLayout, paths: [String], buffer: AlignedBuffer) throws(BenchError) -> Bool {
        let stripe = layout.stripeSize
        let members = paths.count
        let piece = min(stripe, 1 << 20)
        var memberSizes = Array(repeating: 0, count: members)
        do {
            let scratch = try AlignedBuffer(count: piece, lock: false, hugePages: false)
            let reader = try AIOHandle(HandleConfig(blockSize: piece, queueDepth: 1, engine: .posix, direct: false))
            var chunkStart = 0
            while chunkStart < plan.ioSize {
                let chunk = chunkStart / stripe
                let member = chunk % members
                let chunkBytes = min(stripe, plan.ioSize - chunkStart)
                var done = 0
                while done < chunkBytes {
                    let want = min(piece, chunkBytes - done)
                    let offset = (chunk / members) * stripe + done
                    do {
                        try reader.submitRead(into: scratch, from: paths[member], offset: Int64(offset), count: want).wait()
                    } catch where error.kind == .unexpectedEndOfFile {
                        return false
                    }
                    if !buffer.contentsEqual(from: chunkStart + done, to: scratch, length: want) { return false }
                    done += want
                }
                memberSizes[member] += chunkBytes
                chunkStart += chunkBytes
            }
            for (member, path) in paths.enumerated() {
                if try FileSystem.status(of: path).size != Int64(memberSizes[member]) { return false }
            }
        } catch {
            throw .runtime("validate: \(error.description)", cause: error)
        }
        return true
    }
}
