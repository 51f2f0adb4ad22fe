import AsyncIO
import Foundation

/// One argument every rank of a job must be given alike: the flag and its value as text.
public struct ClusterArgument: Codable, Equatable, Sendable {
    /// The flag as the user writes it (`--io_size`), or a description of what is compared.
    package var flag: String
    /// The value as text (`4M`, `on`, `off`).
    package var value: String

    /// Creates an argument.
    package init(_ flag: String, _ value: String) {
        self.flag = flag
        self.value = value
    }

    init(_ flag: String, _ on: Bool) { self.init(flag, on ? "on" : "off") }
}

extension ClusterCoordinator {
    /// The plan agreement that starts every job: rank 0 broadcasts its arguments, every rank compares its
    /// own with them, and the ranks meet.
    ///
    /// - Parameters:
    ///   - arguments: this rank's arguments (empty when its own setup failed).
    ///   - setupError: why this rank's setup failed (its flags did not parse into a plan, a folder is
    ///     missing, ...), nil when it did not.
    /// - Throws: on every rank, the first failure: a rank whose arguments differ from rank 0's (a usage error
    ///   naming the rank and the flag), or whose setup failed.
    public func agree(on arguments: [ClusterArgument], setupError: BenchError?) throws(BenchError) {
        let sent = (try? JSONEncoder().encode(arguments)).map { Array($0) } ?? []
        let received = collective.broadcast(sent, from: 0)
        let leaders = (try? JSONDecoder().decode([ClusterArgument].self, from: Data(received))) ?? []
        try together { () throws(BenchError) in
            if let setupError { throw setupError }
            guard rank != 0, !leaders.isEmpty else { return }
            if let difference = ClusterCoordinator.difference(mine: arguments, leaders: leaders) {
                throw .usage(difference)
            }
        }
    }

    /// The first argument that differs from rank 0's, as one line; nil when they all match.
    static func difference(mine: [ClusterArgument], leaders: [ClusterArgument]) -> String? {
        let theirs = Dictionary(leaders.map { ($0.flag, $0.value) }, uniquingKeysWith: { first, _ in first })
        let flags = mine.map(\.flag) + leaders.map(\.flag).filter { flag in !mine.contains { $0.flag == flag } }
        let own = Dictionary(mine.map { ($0.flag, $0.value) }, uniquingKeysWith: { first, _ in first })
        for flag in flags where own[flag] != theirs[flag] {
            let show = { (value: String?) -> String in
                guard let value else { return "not given" }
                return value.count > 60 ? String(value.prefix(57)) + "..." : value
            }
            return "\(flag) is \(show(own[flag])) on this rank and \(show(theirs[flag])) on rank 0: "
                + "give every rank the same arguments"
        }
        return nil
    }
}

extension BenchPlan {
    /// The arguments of an `io` run that every rank must be given alike (its folders may differ, their
    /// number may not).
    public func clusterArguments(config: HandleConfig, operation: IOOperation) -> [ClusterArgument] {
        [
            ClusterArgument("--io_size", ByteSize.compact(ioSize)),
            ClusterArgument("--read", operation == .read),
            ClusterArgument("the number of folders (--folder, --folder_to_device_mapping)", String(targets.count)),
            ClusterArgument("--multi_process", String(tasksPerFolder)),
            ClusterArgument("--loops", String(loops)),
            ClusterArgument("--warmup_loops", String(warmupLoops)),
            ClusterArgument("--include_warmup_time", includeWarmupTime),
            ClusterArgument("--different_file_each_iteration", differentFileEachIteration),
            ClusterArgument("--validate", validate),
            ClusterArgument("--buffered", buffered),
            ClusterArgument("--keep_files", keepFiles),
            ClusterArgument("--target", target.rawValue),
            ClusterArgument("--fresh_file_each_loop", writeMode == .freshFileEachLoop),
            ClusterArgument("--block_size", ByteSize.compact(config.blockSize)),
            ClusterArgument("--queue_depth", String(config.queueDepth)),
            ClusterArgument("--single_submit", config.singleSubmit),
            ClusterArgument("--sequential_requests", !config.overlapEvents),
            ClusterArgument("--io_parallel", String(config.intraOpParallelism)),
            ClusterArgument("--engine", config.engine.rawValue),
        ]
    }
}

extension SweepRunner {
    /// The arguments of a sweep that every rank must be given alike: the sweep space (whatever file
    /// it came from) and what the manifest compares, apart from the folders' paths and the log folder,
    /// which are rank 0's alone.
    public var clusterArguments: [ClusterArgument] {
        let manifest = manifest
        var arguments = [
            ClusterArgument("the sweep space (--sweep_config)", space.configurations.map(\.description)
                .joined(separator: "; ")),
            ClusterArgument("the number of --nvme_dir folders", String(options.nvmeDirs.count)),
            ClusterArgument("--no_read", !options.read),
            ClusterArgument("--no_write", !options.write),
            ClusterArgument("--flush_page_cache", options.flushPageCache),
        ]
        let flags = [("io_size", "--io_size"), ("loops", "--loops"), ("warmup_loops", "--warmup_loops"),
                     ("trials", "--trials (or the race's settings)"), ("engine", "--engine"),
                     ("buffered", "--buffered"), ("target", "--target"), ("write_mode", "--fresh_file_each_loop")]
        for (key, flag) in flags { arguments.append(ClusterArgument(flag, manifest[key] ?? "")) }
        return arguments
    }
}
