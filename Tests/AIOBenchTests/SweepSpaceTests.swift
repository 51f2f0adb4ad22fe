import AsyncIO
@testable import AIOBench
import Foundation
import Testing

/// The 64 log names (without the `read_`/`write_` prefix) of DeepSpeed 0.19.8's default grid, as its
/// `ds_nvme_tune` wrote them into the fixture folder.
let deepSpeedDefaultGridNames: Set<String> = {
    var names: Set<String> = []
    for submit in ["block", "single"] {
        for order in ["overlap", "sequential"] {
            for depth in [32, 128] {
                for block in ["1M", "8M"] {
                    for parallel in [1, 2, 4, 8] {
                        names.insert("\(submit)_\(order)_ftd1_d\(depth)_bs\(block)_p\(parallel).txt")
                    }
                }
            }
        }
    }
    return names
}()

/// Parses a sweep config given as JSON text.
private func space(_ json: String, folderCount: Int = 1) throws(BenchError) -> SweepSpace {
    try SweepSpace(json: Data(json.utf8), source: "sweep.json", folderCount: folderCount)
}

/// The usage message a bad sweep config produces, or nil when it parses.
private func usageMessage(_ json: String) -> String? {
    do {
        _ = try space(json)
        return nil
    } catch {
        guard case .usage(let text) = error else { return "not a usage error: \(error)" }
        return text
    }
}

@Suite("SweepSpace")
struct SweepSpaceTests {
    @Test("a configuration's log name", arguments: [
        (SweepConfiguration(), IOOperation.read, "read_block_overlap_ftd1_d32_bs1M_p1.txt"),
        (SweepConfiguration(queueDepth: 32, intraOpParallelism: 8), .read, "read_block_overlap_ftd1_d32_bs1M_p8.txt"),
        (SweepConfiguration(blockSize: 8 << 20, queueDepth: 128, singleSubmit: true, overlapEvents: false,
                            intraOpParallelism: 4), .write, "write_single_sequential_ftd1_d128_bs8M_p4.txt"),
        (SweepConfiguration(blockSize: 1 << 20, blockSizeText: "1048576"), .read,
         "read_block_overlap_ftd1_d32_bs1048576_p1.txt"),
        (SweepConfiguration(blockSize: 128 << 10, blockSizeText: "128K", queueDepth: 8, folderCount: 2), .write,
         "write_block_overlap_ftd2_d8_bs128K_p1.txt"),
        (SweepConfiguration(blockSize: 2 << 30, blockSizeText: "2G"), .read, "read_block_overlap_ftd1_d32_bs2G_p1.txt"),
        // Text that is not the plain form, or does not match the bytes, falls back to the compact form.
        (SweepConfiguration(blockSize: 4 << 20, blockSizeText: "4MiB"), .read,
         "read_block_overlap_ftd1_d32_bs4M_p1.txt"),
        (SweepConfiguration(blockSize: 4 << 20, blockSizeText: "1M"), .read, "read_block_overlap_ftd1_d32_bs4M_p1.txt"),
        (SweepConfiguration(blockSize: 1536), .read, "read_block_overlap_ftd1_d32_bs1536_p1.txt"),
    ])
    func logName(configuration: SweepConfiguration, operation: IOOperation, expected: String) {
        #expect(configuration.logFileName(operation: operation) == expected)
        let parsed = SweepLogName(fileName: expected)
        #expect(parsed?.operation == operation)
        #expect(parsed?.configuration == configuration)
    }

    @Test("tags for tasks per folder and engine")
    func tags() {
        let config = SweepConfiguration(tasksPerFolder: 2, engine: .uring)
        #expect(config.logFileName(operation: .read, tagTasksPerFolder: true)
            == "read_block_overlap_ftd1_d32_bs1M_p1_t2.txt")
        #expect(config.logFileName(operation: .read, tagEngine: true)
            == "read_block_overlap_ftd1_d32_bs1M_p1_eio_uring.txt")
        #expect(config.logFileName(operation: .write, tagTasksPerFolder: true, tagEngine: true)
            == "write_block_overlap_ftd1_d32_bs1M_p1_t2_eio_uring.txt")
        #expect(config.logFileName(operation: .read) == "read_block_overlap_ftd1_d32_bs1M_p1.txt")
    }

    @Test("the default grid is DeepSpeed 0.19's 64 configurations with DeepSpeed's names")
    func defaultGrid() throws {
        let grid = SweepSpace.deepSpeedDefault
        #expect(grid.count == 64)
        let configurations = grid.configurations
        #expect(configurations.count == 64)
        #expect(Set(configurations).count == 64)
        for operation in IOOperation.allCases {
            let names = configurations.map { grid.logFileName(for: $0, operation: operation) }
            #expect(Set(names).count == 64)
            let stripped = Set(names.map { String($0.dropFirst(operation.rawValue.count + 1)) })
            #expect(stripped == deepSpeedDefaultGridNames)
        }
        // itertools.product order: block size slowest, io_parallel fastest.
        #expect(grid.logFileName(for: configurations[0], operation: .read)
            == "read_block_sequential_ftd1_d32_bs1M_p1.txt")
        #expect(grid.logFileName(for: configurations[1], operation: .read)
            == "read_block_sequential_ftd1_d32_bs1M_p2.txt")
        #expect(grid.logFileName(for: configurations[4], operation: .read)
            == "read_single_sequential_ftd1_d32_bs1M_p1.txt")
        #expect(grid.logFileName(for: configurations[63], operation: .read)
            == "read_single_overlap_ftd1_d128_bs8M_p8.txt")
        #expect(!grid.tagsTasksPerFolder && !grid.tagsEngine)
    }

    @Test("the default grid's names are the names in DeepSpeed's real log folder")
    func defaultGridMatchesFixtureFolder() throws {
        let logs = try SweepFixtures.requireFullDeepSpeedLogs()
        for operation in IOOperation.allCases {
            let files = try FileManager.default.contentsOfDirectory(atPath: logs + "/" + operation.logFolderName)
            let grid = SweepSpace.deepSpeedDefault
            let names = Set(grid.configurations.map { grid.logFileName(for: $0, operation: operation) })
            #expect(names == Set(files))
        }
    }

    @Test("a sweep config with every key")
    func everyKey() throws {
        let parsed = try space("""
            {"block_size": ["128K", 1048576, "2G"], "queue_depth": [8, "64"], "overlap_events": [true, "false"],
             "single_submit": ["TRUE"], "io_parallel": [1, 2], "threads": [1, 2], "engine": ["io_uring", "aio"]}
            """, folderCount: 2)
        #expect(parsed.blockSizes.map(\.bytes) == [128 << 10, 1 << 20, 2 << 30])
        #expect(parsed.blockSizes.map(\.text) == ["128K", "1048576", "2G"])
        #expect(parsed.queueDepths == [8, 64])
        #expect(parsed.sequentialRequests == [false, true])
        #expect(parsed.singleSubmit == [true])
        #expect(parsed.intraOpParallelism == [1, 2])
        #expect(parsed.tasksPerFolder == [1, 2])
        #expect(parsed.engines == [.uring, .aio])
        // Every spelling of the engine table is taken; `auto` leaves the engine to the sweep.
        let aliases = try SweepSpace(json: Data(#"{"engine": ["libaio", "iouring", "psync", "auto"]}"#.utf8))
        #expect(aliases.engines == [.aio, .uring, .posix, nil])
        #expect(parsed.folderCount == 2)
        #expect(parsed.count == 3 * 2 * 2 * 1 * 2 * 2 * 2)
        let configurations = parsed.configurations
        #expect(configurations.count == parsed.count)
        #expect(Set(configurations).count == parsed.count)
        #expect(parsed.tagsTasksPerFolder && parsed.tagsEngine)
        let names = configurations.map { parsed.logFileName(for: $0, operation: .read) }
        #expect(Set(names).count == names.count, "tags keep every name unique")
        #expect(names[0] == "read_single_overlap_ftd2_d8_bs128K_p1_t1_eio_uring.txt")
        #expect(names[1] == "read_single_overlap_ftd2_d8_bs128K_p1_t1_eaio.txt")
        #expect(names[2] == "read_single_overlap_ftd2_d8_bs128K_p1_t2_eio_uring.txt")
        for (name, configuration) in zip(names, configurations) {
            let back = SweepLogName(fileName: name)
            #expect(back?.configuration == configuration)
            #expect(back?.operation == .read)
            #expect(back?.hasTasksPerFolderTag == true && back?.hasEngineTag == true)
        }
    }

    @Test("keys not set take the defaults; a key set to one value adds no tag")
    func defaultsAndConstantExtras() throws {
        let parsed = try space(#"{"queue_depth": [16], "threads": [2], "engine": ["posix"]}"#)
        #expect(parsed.count == 1)
        let only = try #require(parsed.configurations.first)
        #expect(only == SweepConfiguration(queueDepth: 16, tasksPerFolder: 2, engine: .posix))
        #expect(parsed.logFileName(for: only, operation: .write) == "write_block_overlap_ftd1_d16_bs1M_p1.txt")
        let empty = try space("{}")
        #expect(empty.configurations == [SweepConfiguration()])
    }

    @Test("multi_process is threads; sequential_requests as written")
    func aliases() throws {
        let parsed = try space(#"{"multi_process": [3], "sequential_requests": ["true", false]}"#)
        #expect(parsed.tasksPerFolder == [3])
        #expect(parsed.sequentialRequests == [true, false])
    }

    @Test("the product follows the key order of the file, the last key fastest")
    func keyOrder() throws {
        let parsed = try space(#"{"io_parallel": [1, 2], "queue_depth": [4, 8]}"#)
        let pairs = parsed.configurations.map { "\($0.intraOpParallelism)/\($0.queueDepth)" }
        #expect(pairs == ["1/4", "1/8", "2/4", "2/8"])
        let reversed = try space(#"{"queue_depth": [4, 8], "io_parallel": [1, 2]}"#)
        #expect(reversed.configurations.map { "\($0.intraOpParallelism)/\($0.queueDepth)" } == ["1/4", "2/4", "1/8", "2/8"])
    }

    @Test("bad sweep configs are one usage line naming the problem", arguments: [
        ("{\"queue_depth\": [32,}", ["not valid JSON", "line 1"]),
        ("", ["not valid JSON", "empty"]),
        ("{\"queue_depth\": [32]} x", ["not valid JSON", "after the end"]),
        ("[1, 2]", ["must be a JSON object", "found a list"]),
        ("\"1M\"", ["must be a JSON object", "found a string"]),
        ("{\"queue_depth\": 32}", ["\"queue_depth\" must be a list", "found 32"]),
        ("{\"block_size\": \"1M\"}", ["\"block_size\" must be a list", "found \"1M\""]),
        ("{\"io_parallel\": []}", ["\"io_parallel\" is an empty list"]),
        ("{\"blocksize\": [1]}", ["unknown key \"blocksize\"", "block_size, queue_depth", "engine"]),
        ("{\"queue_depth\": [\"deep\"]}", ["\"queue_depth\" value \"deep\"", "whole number greater than 0"]),
        ("{\"queue_depth\": [0]}", ["\"queue_depth\" value 0", "greater than 0"]),
        ("{\"queue_depth\": [-4]}", ["\"queue_depth\" value -4"]),
        ("{\"queue_depth\": [\"-4\"]}", ["\"queue_depth\" value \"-4\""]),
        ("{\"io_parallel\": [1.5]}", ["\"io_parallel\" value 1.5"]),
        ("{\"threads\": [true]}", ["\"threads\" value true"]),
        ("{\"queue_depth\": [null]}", ["\"queue_depth\" value null"]),
        ("{\"queue_depth\": [[32]]}", ["\"queue_depth\" value [32]"]),
        ("{\"block_size\": [\"12Q\"]}", ["\"block_size\" value \"12Q\"", "\"128K\""]),
        ("{\"block_size\": [0]}", ["\"block_size\" value 0"]),
        ("{\"block_size\": [\"0\"]}", ["\"block_size\" value \"0\""]),
        ("{\"block_size\": [-1]}", ["\"block_size\" value -1"]),
        ("{\"block_size\": [1.5]}", ["\"block_size\" value 1.5"]),
        ("{\"block_size\": [true]}", ["\"block_size\" value true"]),
        ("{\"single_submit\": [1]}", ["\"single_submit\" value 1", "true or false"]),
        ("{\"single_submit\": [\"yes\"]}", ["\"single_submit\" value \"yes\"", "true or false"]),
        ("{\"engine\": [\"spdk\"]}", ["\"engine\" value \"spdk\"", "io_uring"]),
        ("{\"engine\": [1]}", ["\"engine\" value 1"]),
        ("{\"overlap_events\": [true], \"sequential_requests\": [false]}",
         ["\"overlap_events\" and \"sequential_requests\"", "use one"]),
        ("{\"threads\": [1], \"multi_process\": [2]}", ["\"threads\" and \"multi_process\""]),
        ("{\"queue_depth\": [32, 32]}", ["lists 32 twice"]),
        ("{\"block_size\": [\"1M\", 1048576]}", ["lists 1048576 twice", "the same as \"1M\""]),
        ("{\"queue_depth\": [1], \"queue_depth\": [2]}", ["not valid JSON", "appears twice"]),
    ])
    func badConfig(json: String, fragments: [String]) {
        let message = usageMessage(json)
        #expect(message != nil, "\(json) should be refused")
        for fragment in fragments {
            #expect(message?.contains(fragment) == true, "\(message ?? "nil") should mention \(fragment)")
        }
        #expect(message?.contains("\n") == false)
        #expect(message?.hasPrefix("sweep.json") == true)
    }

    @Test("a space too large is refused")
    func tooLarge() {
        let values = (1...100).map(String.init).joined(separator: ", ")
        let message = usageMessage(
            "{\"queue_depth\": [\(values)], \"io_parallel\": [\(values)], \"threads\": [\(values)]}")
        #expect(message?.contains("1000000 configurations") == true)
    }

    @Test("reading a sweep config file")
    func configFile() throws {
        let folder = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/sweep.json"
        try Data(#"{"block_size": ["1M", "8M"], "io_parallel": [1, 8]}"#.utf8).write(to: URL(fileURLWithPath: path))
        let parsed = try SweepSpace(contentsOfFile: path)
        #expect(parsed.count == 4)
        #expect(throws: BenchError.usage("sweep config \(folder)/missing.json cannot be read: no such file")) {
            try SweepSpace(contentsOfFile: folder + "/missing.json")
        }
        #expect(throws: BenchError.usage("sweep config \(folder) cannot be read: it is a folder")) {
            try SweepSpace(contentsOfFile: folder)
        }
    }

    @Test("building a space from values")
    func fromValues() throws {
        let built = try SweepSpace(blockSizes: ["128K", "1M"], queueDepths: [8], intraOpParallelism: [1, 2], folderCount: 3)
        #expect(built.count == 4)
        #expect(built.configurations.allSatisfy { $0.folderCount == 3 })
        #expect(throws: BenchError.self) { try SweepSpace(queueDepths: []) }
        #expect(throws: BenchError.self) { try SweepSpace(queueDepths: [0]) }
        #expect(throws: BenchError.self) { try SweepSpace(blockSizes: ["12Q"]) }
        #expect(throws: BenchError.self) { try SweepSpace(json: Data(#"{"engine": ["spdk"]}"#.utf8)) }
        #expect(throws: BenchError.self) { try SweepSpace(folderCount: 0) }
        #expect(throws: BenchError.self) { try SweepSpace.deepSpeedDefault.withFolderCount(0) }
        let four = try SweepSpace.deepSpeedDefault.withFolderCount(4)
        #expect(four.logFileName(for: four.configurations[0], operation: .read)
            == "read_block_sequential_ftd4_d32_bs1M_p1.txt")
    }

    @Test("names that are not log names", arguments: [
        "read_block_overlap_ftd1_d32_bs1M_p1", "read_block_overlap_ftd1_d32_bs1M_p1.log",
        "copy_block_overlap_ftd1_d32_bs1M_p1.txt", "read_batch_overlap_ftd1_d32_bs1M_p1.txt",
        "read_block_lapover_ftd1_d32_bs1M_p1.txt", "read_block_overlap_ftd0_d32_bs1M_p1.txt",
        "read_block_overlap_ftd1_d0_bs1M_p1.txt", "read_block_overlap_ftd1_dX_bs1M_p1.txt",
        "read_block_overlap_ftd1_d32_bs1Q_p1.txt", "read_block_overlap_ftd1_d32_bs_p1.txt",
        "read_block_overlap_ftd1_d32_bs1MiB_p1.txt", "read_block_overlap_ftd1_d32_bs1M_p-1.txt",
        "read_block_overlap_ftd1_d32_bs1M.txt", "read_block_overlap_ftd1_d32_bs1M_p1_x.txt",
        "read_block_overlap_ftd1_d32_bs1M_p1_t0.txt", "read_block_overlap_ftd1_d32_bs1M_p1_espdk.txt",
        "read_block_overlap_ftd1_d32_bs1M_p1_eio_uring_t2.txt", "read_block_overlap_ftd1_d32_bs1M_p1_.txt",
        ".read_block_overlap_ftd1_d32_bs1M_p1.txt.1.2.tmp", "",
    ])
    func notLogNames(name: String) {
        #expect(SweepLogName(fileName: name) == nil)
    }

    @Test("log names round-trip")
    func nameRoundTrip() throws {
        for name in ["read_single_sequential_ftd3_d128_bs128K_p8.txt", "write_block_overlap_ftd1_d1_bs1048576_p1.txt",
                     "read_block_overlap_ftd1_d32_bs1M_p1_t4.txt", "write_block_overlap_ftd1_d32_bs2G_p2_eposix.txt",
                     "read_block_overlap_ftd1_d32_bs1M_p1_t2_eio_uring.txt"] {
            let parsed = try #require(SweepLogName(fileName: name))
            let again = SweepLogName(operation: parsed.operation, configuration: parsed.configuration,
                                     tagTasksPerFolder: parsed.hasTasksPerFolderTag, tagEngine: parsed.hasEngineTag)
            #expect(again.fileName == name)
            #expect(again == parsed)
        }
    }

    @Test("configurations are Codable and describe themselves")
    func codable() throws {
        let config = SweepConfiguration(blockSize: 128 << 10, blockSizeText: "128K", queueDepth: 8, singleSubmit: true,
                                        intraOpParallelism: 2, tasksPerFolder: 3, engine: .aio)
        let data = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(SweepConfiguration.self, from: data) == config)
        #expect(config.description == "block_size=128K queue_depth=8 single_submit=true sequential_requests=false"
            + " io_parallel=2 tasks_per_folder=3 folders=1 engine=aio")
        var copy = config
        copy.overlapEvents = false
        #expect(copy.description.contains("sequential_requests=true"))  // the inverse, at the text edge
        #expect(SweepConfiguration(blockSize: 1 << 20, blockSizeText: "1048576").tuningIdentity == SweepConfiguration())
    }
}

/// Sweep configs from pipes, standard input and empty files.
@Suite("Sweep config sources")
struct SweepConfigSourceTests {
    @Test("a named pipe (as process substitution gives) is read to its end")
    func pipe() throws {
        let folder = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fifo = folder + "/config"
        #expect(mkfifo(fifo, 0o600) == 0)
        let writer = Thread {
            if let handle = FileHandle(forWritingAtPath: fifo) {
                handle.write(Data(#"{"queue_depth": [4, 8]}"#.utf8))
                try? handle.close()
            }
        }
        writer.start()
        let space = try SweepSpace(contentsOfFile: fifo)
        #expect(space.queueDepths == [4, 8])
    }

    @Test("an empty file says it is empty; a folder says it is a folder; a missing file says so")
    func emptyAndWrong() throws {
        let folder = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let empty = folder + "/empty.json"
        try Data().write(to: URL(fileURLWithPath: empty))
        #expect(throws: BenchError.usage("sweep config \(empty) is empty: expected a JSON object of lists")) {
            try SweepSpace(contentsOfFile: empty)
        }
        #expect(throws: BenchError.usage("sweep config \(folder) cannot be read: it is a folder")) {
            try SweepSpace(contentsOfFile: folder)
        }
        #expect(throws: BenchError.usage("sweep config \(folder)/no.json cannot be read: no such file")) {
            try SweepSpace(contentsOfFile: folder + "/no.json")
        }
    }
}
