@testable import AIOBench
import AsyncIO
import Foundation
import PropertyBased
import Testing

// Property-based tests of the four parsers that read what users and other tools write: size strings, log
// file names, log contents and sweep-config JSON. Random and mutated inputs must never crash (a parser returns
// a value, nil, or throws `BenchError`); values built from valid parts must survive format → parse unchanged.
// A failure prints the input and a `.fixedSeed(...)` trait that replays it.

// MARK: - Comparing results

/// Doubles equal as values, with NaN equal to NaN (the parsers read `nan` as written).
private func same(_ a: Double?, _ b: Double?) -> Bool {
    switch (a, b) {
    case (nil, nil): true
    case (let x?, let y?): x == y || (x.isNaN && y.isNaN)
    default: false
    }
}

private func same(_ a: LogTrial, _ b: LogTrial) -> Bool {
    same(a.taskLatency, b.taskLatency) && same(a.taskSpeed, b.taskSpeed) && same(a.e2eLatency, b.e2eLatency)
        && same(a.e2eSpeed, b.e2eSpeed)
}

private func same(_ a: [LogTrial], _ b: [LogTrial]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { same($0, $1) }
}

private func same(_ a: LogSummary, _ b: LogSummary) -> Bool {
    same(a.taskLatency, b.taskLatency) && same(a.taskSpeed, b.taskSpeed) && same(a.e2eLatency, b.e2eLatency)
        && same(a.e2eSpeed, b.e2eSpeed)
}

/// The four closing lines `LogWriter` writes for a log: its summary, else the median trial's.
private func writtenSummary(_ log: SweepLog) -> LogSummary {
    if !log.summary.isEmpty { return log.summary }
    return SweepLog.medianTrial(log.trialResults).map(LogSummary.init) ?? LogSummary()
}

/// What a log name says about a configuration: untagged tasks per folder and engine read back as defaults.
private func named(_ configuration: SweepConfiguration, tagTasks: Bool, tagEngine: Bool) -> SweepConfiguration {
    var expected = configuration
    if !tagTasks { expected.tasksPerFolder = 1 }
    if !tagEngine { expected.engine = nil }
    return expected
}

/// Example inputs to mutate: the DeepSpeed fixture logs and sweep configs of the kinds users write.
private enum Seeds {
    static let logs: [String] = {
        let manager = FileManager.default
        var texts: [String] = []
        for operation in IOOperation.allCases {
            let folder = SweepFixtures.deepSpeedLogs + "/" + operation.logFolderName
            for name in ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).sorted() {
                if let data = manager.contents(atPath: folder + "/" + name) {
                    texts.append(String(decoding: data, as: UTF8.self))
                }
            }
        }
        texts.append(LogWriter.format(operation: .read, configuration: SweepConfiguration(engine: .uring),
                                      engine: "io_uring", ioSize: 1 << 28,
                                      trials: [LogTrial(bytes: 1 << 28, taskLatency: 0.21, e2eLatency: 0.22),
                                               LogTrial(bytes: 1 << 28, taskLatency: 0.2, e2eLatency: 0.25)],
                                      notes: ["huge pages: yes"]))
        texts.append(LogWriter.format(operation: .write, configuration: SweepConfiguration(), trials: [],
                                      error: "cannot open /mnt/x: Permission denied (errno 13)"))
        return texts
    }()

    static let sweepConfigs: [String] = [
        #"{"block_size": ["1M", "8M"], "queue_depth": [32, 128], "sequential_requests": [true, false],"#
            + #" "single_submit": [false, true], "io_parallel": [1, 2, 4, 8]}"#,
        #"{"block_size": ["128K", 1048576], "queue_depth": ["8"], "overlap_events": [true], "threads": [1, 2],"#
            + #" "engine": ["io_uring", "aio", "posix"]}"#,
        #"{"multi_process": [4], "single_submit": ["true"], "io_parallel": [2]}"#,
        "{}",
    ]

    static let sizes = ["400M", "1G", "128K", "4096", "4MiB", "4MB", " 2t ", "1048576", "8m"]
}

// MARK: - Size strings

@Suite("Property: size strings")
struct SizeStringProperties {
    @Test("compact → parse gives the same byte count")
    func compactRoundTrip() async {
        await propertyCheck(count: 1000, input: Arbitrary.make { rng in Arbitrary.byteCount(using: &rng) }) { bytes in
            let text = ByteSize.compact(bytes)
            #expect((try? ByteSize.parse(text)) == bytes)
        }
    }

    @Test("a number with a unit is the number times the unit, or too large")
    func numberWithUnit() async {
        let units: [(String, Int)] = [("", 1), ("B", 1), ("k", 1 << 10), ("KB", 1 << 10), ("KiB", 1 << 10),
                                      ("m", 1 << 20), ("MIB", 1 << 20), ("g", 1 << 30), ("Gb", 1 << 30),
                                      ("T", 1 << 40), ("tib", 1 << 40)]
        let input = zip(Gen.int(in: 1...Int.max), Gen<(String, Int)?>.element(of: units).map { $0! },
                        Gen.element(of: ["", " ", "\t", "\n", " \t "]).map { $0! })
        await propertyCheck(count: 1000, input: input) { number, unit, padding in
            let text = padding + String(number) + unit.0 + padding
            let (product, overflow) = number.multipliedReportingOverflow(by: unit.1)
            if overflow {
                #expect(throws: BenchError.self) { try ByteSize.parse(text) }
            } else {
                #expect((try? ByteSize.parse(text)) == product)
            }
        }
    }

    @Test("random and mutated size strings give a positive size or one usage error")
    func neverCrashes() async {
        let input = Arbitrary.make { rng in
            Bool.random(using: &rng) ? Arbitrary.hostileText(pieces: 0...12, using: &rng)
                : Arbitrary.mutate(Seeds.sizes.randomElement(using: &rng)!, maximum: 4, using: &rng)
        }
        await propertyCheck(count: 2000, input: input) { text in
            switch Result(catching: { () throws(BenchError) in try ByteSize.parse(text, name: "--io_size") }) {
            case .success(let bytes):
                #expect(bytes > 0)
                // Whatever parses, its compact form parses to the same count.
                #expect((try? ByteSize.parse(ByteSize.compact(bytes))) == bytes)
            case .failure(.usage(let message)):
                #expect(message.hasPrefix("--io_size"))
            case .failure(let error):
                Issue.record("not a usage error: \(error)")
            }
        }
    }
}

// MARK: - Log file names

@Suite("Property: log file names")
struct LogNameProperties {
    @Test("configuration → log file name → the same configuration")
    func nameRoundTrip() async {
        let input = zip(Arbitrary.make { rng in Arbitrary.configuration(using: &rng) },
                        Gen<IOOperation>.case, Gen.bool, Gen.bool)
        await propertyCheck(count: 1000, input: input) { configuration, operation, tagTasks, tagEngine in
            let fileName = configuration.logFileName(operation: operation, tagTasksPerFolder: tagTasks,
                                                     tagEngine: tagEngine)
            guard let parsed = SweepLogName(fileName: fileName) else {
                Issue.record("\(fileName) does not parse")
                return
            }
            #expect(parsed.operation == operation)
            #expect(parsed.fileName == fileName)
            #expect(parsed.hasTasksPerFolderTag == tagTasks)
            #expect(parsed.hasEngineTag == (tagEngine && configuration.engine != nil))
            #expect(parsed.configuration == named(configuration, tagTasks: tagTasks, tagEngine: tagEngine))
            #expect(parsed == SweepLogName(operation: operation, configuration: parsed.configuration,
                                           tagTasksPerFolder: tagTasks, tagEngine: tagEngine))
            // DeepSpeed's key of the same name: queue depth, block size in bytes, parallelism as numbers.
            let key = LogKey(fileName: fileName).fields
            #expect(key.count >= 7)
            #expect(Array(key.prefix(7).suffix(3)) == [.int(configuration.queueDepth), .int(configuration.blockSize),
                                                        .int(configuration.intraOpParallelism)])
        }
    }

    @Test("random and mutated names parse to nil or to a name that formats back to itself")
    func neverCrashes() async {
        let input = Arbitrary.make { rng in
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: Arbitrary.hostileText(pieces: 0...25, using: &rng)
            case 1: Arbitrary.mutate(Arbitrary.logFileName(using: &rng), maximum: 3, using: &rng)
            default: Arbitrary.mutate(Arbitrary.logFileName(using: &rng), maximum: 10, using: &rng)
            }
        }
        await propertyCheck(count: 2000, input: input) { name in
            _ = LogKey(fileName: name).description
            guard let parsed = SweepLogName(fileName: name) else { return }
            #expect(parsed.fileName == name)
            let again = SweepLogName(operation: parsed.operation, configuration: parsed.configuration,
                                     tagTasksPerFolder: parsed.hasTasksPerFolderTag, tagEngine: parsed.hasEngineTag)
            #expect(SweepLogName(fileName: again.fileName)?.configuration == parsed.configuration)
        }
    }
}

// MARK: - Log contents

@Suite("Property: log contents")
struct LogContentProperties {
    @Test("a log → LogWriter.format → LogParser.parse → the same log")
    func logRoundTrip() async {
        let input = Arbitrary.make { rng in
            var log = Arbitrary.sweepLog(plainText: true, using: &rng)
            if Int.random(in: 0..<4, using: &rng) == 0 {
                // DeepSpeed's four lines given on their own, any of them missing.
                func maybe(_ rng: inout some RandomNumberGenerator) -> Double? {
                    Bool.random(using: &rng) ? Arbitrary.finiteDouble(using: &rng) : nil
                }
                log.summary = LogSummary(taskLatency: maybe(&rng), taskSpeed: maybe(&rng), e2eLatency: maybe(&rng),
                                         e2eSpeed: maybe(&rng))
            }
            return log
        }
        await propertyCheck(count: 500, input: input) { log in
            let text = LogWriter.format(log)
            let parsed = LogParser.parse(text, operation: log.operation)
            let summary = writtenSummary(log)
            #expect(parsed.trialResults == log.trialResults)
            #expect(same(parsed.summary, summary))
            #expect(same(parsed.metric, summary.e2eSpeed))
            #expect(parsed.notes == log.notes)
            #expect(parsed.error == log.error)
            #expect(parsed.configuration == log.configuration)
            #expect(parsed.engine == log.engine)
            #expect(parsed.ioSize == log.ioSize)
            #expect(parsed.operation == log.operation ?? (summary.isEmpty ? nil : .read))
            #expect(parsed.warnings.isEmpty)
            // Without the operation given, the `operation:` line (or the four lines' own) picks the same.
            #expect(same(LogParser.parse(text).metric, summary.e2eSpeed))
        }
    }

    @Test("notes and errors of any text cannot change the trials or the metric")
    func hostileNotes() async {
        let input = Arbitrary.make { rng in Arbitrary.sweepLog(plainText: false, using: &rng) }
        await propertyCheck(count: 500, input: input) { log in
            let parsed = LogParser.parse(LogWriter.format(log), operation: log.operation)
            #expect(parsed.trialResults == log.trialResults)
            #expect(same(parsed.metric, writtenSummary(log).e2eSpeed))
            #expect(parsed.notes.count == log.notes.count)
            #expect((parsed.error == nil) == (log.error == nil))
        }
    }

    @Test("random and mutated logs parse, and what they hold survives format → parse")
    func neverCrashes() async {
        let input = Arbitrary.make { rng in
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                return Arbitrary.hostileText(pieces: 0...80, using: &rng)
            case 1:
                return Arbitrary.posingLines(using: &rng)
            default:
                return Arbitrary.mutate(Seeds.logs.randomElement(using: &rng)!, maximum: 12, using: &rng)
            }
        }
        await propertyCheck(count: 500, input: input) { text in
            for operation in [nil] + IOOperation.allCases.map(Optional.some) {
                let log = LogParser.parse(text, operation: operation)
                let again = LogParser.parse(LogWriter.format(log), operation: log.operation)
                #expect(same(again.trialResults, log.trialResults))
                #expect(same(again.summary, writtenSummary(log)))
                #expect(again.configuration == log.configuration)
                #expect(again.ioSize == log.ioSize)
                #expect(again.operation == log.operation ?? (writtenSummary(log).isEmpty ? nil : .read))
            }
        }
    }
}

// MARK: - Sweep configs

@Suite("Property: sweep configs")
struct SweepConfigProperties {
    @Test("a config of valid values has the product of its list lengths as configurations, each named apart")
    func productCount() async {
        let input = Arbitrary.make { rng in
            (RandomSweepConfig.random(using: &rng), Int.random(in: 1...4, using: &rng))
        }
        await propertyCheck(count: 300, input: input) { config, folders in
            let result = Result { () throws(BenchError) in
                try SweepSpace(json: Data(config.json.utf8), source: "random.json", folderCount: folders)
            }
            guard case .success(let space) = result else {
                Issue.record("a valid config was refused: \(result)")
                return
            }
            let configurations = space.configurations
            #expect(configurations.count == config.expectedCount)
            #expect(space.count == config.expectedCount)
            #expect(Set(configurations).count == configurations.count)
            #expect(configurations.allSatisfy { $0.folderCount == folders })
            for operation in IOOperation.allCases {
                let names = configurations.map { space.logFileName(for: $0, operation: operation) }
                #expect(Set(names).count == names.count)
            }
            for configuration in configurations.prefix(50) {
                let name = space.logName(for: configuration, operation: .write)
                let parsed = SweepLogName(fileName: name.fileName)
                #expect(parsed?.configuration == named(configuration, tagTasks: space.tagsTasksPerFolder,
                                                       tagEngine: space.tagsEngine))
            }
        }
    }

    @Test("random and mutated sweep configs give a space or one usage error")
    func neverCrashes() async {
        let input = Arbitrary.make { rng in
            switch Int.random(in: 0..<5, using: &rng) {
            case 0:
                return Array(Arbitrary.hostileText(pieces: 0...60, using: &rng).utf8)
            case 1:
                return Arbitrary.bytes(count: 0...200, using: &rng)
            case 2:
                return Array(Arbitrary.mutate(Seeds.sweepConfigs.randomElement(using: &rng)!, using: &rng).utf8)
            default:
                return Array(Arbitrary.mutate(RandomSweepConfig.random(using: &rng).json, maximum: 4,
                                              using: &rng).utf8)
            }
        }
        await propertyCheck(count: 1000, input: input) { bytes in
            let result = Result { () throws(BenchError) in try SweepSpace(json: Data(bytes), source: "fuzzed.json") }
            switch result {
            case .success(let space):
                #expect(space.count >= 1 && space.count <= SweepSpace.maximumConfigurations)
                if space.count <= 1000 { #expect(space.configurations.count == space.count) }
            case .failure(.usage(let message)):
                #expect(message.hasPrefix("fuzzed.json"))
            case .failure(let error):
                Issue.record("not a usage error: \(error)")
            }
        }
    }
}
