import AsyncIO
import AIOBench
import Foundation

/// The parsers the fuzzer feeds, one per corpus under `Fuzz/corpus/`.
///
/// Each target takes any bytes and must return: a parser may give a value, nil or `BenchError`, never crash,
/// hang or break its own round trip. A broken round trip traps, so that libFuzzer saves the input as a crash.
enum FuzzTarget: String, CaseIterable {
    /// `LogParser.parse` over a log's text, with and without an operation, then format → parse again.
    case logs
    /// `SweepSpace(json:)` over a sweep config's bytes; a space it accepts is expanded and its names read back.
    case sweep
    /// `SweepLogName(fileName:)`, `LogKey(fileName:)` and `ByteSize.parse` over a file name or size string.
    case names

    /// Runs one input through this target's parser and checks what comes back.
    func run(_ bytes: UnsafeBufferPointer<UInt8>) {
        switch self {
        case .logs: Self.logs(String(decoding: bytes, as: UTF8.self))
        case .sweep: Self.sweep(Data(buffer: bytes))
        case .names: Self.names(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// The largest space the sweep target expands (a space may hold up to 100,000 configurations).
    static let largestExpandedSpace = 2_000

    private static func logs(_ text: String) {
        for operation in [nil] + IOOperation.allCases.map(Optional.some) {
            let log = LogParser.parse(text, operation: operation)
            let formatted = LogWriter.format(log)
            let again = LogParser.parse(formatted, operation: log.operation)
            // The writer fills missing closing lines from the median trial.
            var written = log.summary
            if written.isEmpty, let median = SweepLog.medianTrial(log.trialResults) { written = LogSummary(median) }
            check(again.trialResults.count == log.trialResults.count
                  && zip(again.trialResults, log.trialResults).allSatisfy(same),
                  "trials changed in format → parse", text)
            check(same(again.summary, written), "the four closing lines changed in format → parse", text)
            check(again.configuration == log.configuration, "the configuration changed in format → parse", text)
            check(again.ioSize == log.ioSize, "io_size changed in format → parse", text)
            check(again.notes.count == log.notes.count, "notes were lost in format → parse", text)
            check((again.error == nil) == (log.error == nil), "the error line was lost in format → parse", text)
            check(again.warnings.isEmpty, "the writer wrote a line its parser warns about: \(again.warnings)", text)
        }
    }

    private static func sweep(_ data: Data) {
        for folders in [1, 3] {
            let space: SweepSpace
            do {
                space = try SweepSpace(json: data, source: "fuzz.json", folderCount: folders)
            } catch {
                check(error.exitCode == 64 && !error.description.isEmpty, "not a usage error: \(error)", "")
                continue
            }
            check((1...SweepSpace.maximumConfigurations).contains(space.count), "space size \(space.count)", "")
            guard space.count <= largestExpandedSpace else { continue }
            let configurations = space.configurations
            check(configurations.count == space.count, "expanded \(configurations.count) of \(space.count)", "")
            var names = Set<String>()
            for configuration in configurations {
                let name = space.logName(for: configuration, operation: .read)
                check(names.insert(name.fileName).inserted, "two configurations share \(name.fileName)", "")
                guard let back = SweepLogName(fileName: name.fileName) else {
                    check(false, "log name \(name.fileName) does not parse", "")
                    continue
                }
                // A name leaves out tasks per folder and engine when the space does not vary them.
                var named = configuration
                if !space.tagsTasksPerFolder { named.tasksPerFolder = 1 }
                if !space.tagsEngine { named.engine = nil }
                check(back.configuration == named && back.operation == .read,
                      "log name \(name.fileName) reads back as \(back.configuration)", "")
            }
        }
    }

    private static func names(_ text: String) {
        _ = LogKey(fileName: text).description
        if let name = SweepLogName(fileName: text) {
            check(name.fileName == text, "the name read is not the name given", text)
            let again = SweepLogName(operation: name.operation, configuration: name.configuration,
                                     tagTasksPerFolder: name.hasTasksPerFolderTag, tagEngine: name.hasEngineTag)
            check(SweepLogName(fileName: again.fileName) == again, "a formatted name does not read back", text)
        }
        do {
            let bytes = try ByteSize.parse(text)
            check(bytes > 0, "a size of \(bytes)", text)
            check((try? ByteSize.parse(ByteSize.compact(bytes))) == bytes, "compact form does not read back", text)
            _ = ByteSize.human(bytes)
        } catch {
            check(error.exitCode == 64, "not a usage error: \(error)", text)
        }
        if let block = try? SweepBlockSize(text) {
            check((try? ByteSize.parse(block.text)) == block.bytes, "block size text \(block.text)", text)
        }
    }

    /// Traps with the message and the input when `condition` is false, so that libFuzzer keeps the input.
    private static func check(_ condition: Bool, _ message: @autoclosure () -> String, _ input: String) {
        if !condition {
            let shown = input.debugDescription
            fatalError("aio-bench-fuzz: \(message()) for input \(shown.prefix(2000))")
        }
    }

    private static func same(_ a: Double?, _ b: Double?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case (let x?, let y?): x == y || (x.isNaN && y.isNaN)
        default: false
        }
    }

    private static func same(_ a: LogTrial, _ b: LogTrial) -> Bool {
        same(a.taskLatency, b.taskLatency) && same(a.taskSpeed, b.taskSpeed) && same(a.e2eLatency, b.e2eLatency)
            && same(a.e2eSpeed, b.e2eSpeed)
    }

    private static func same(_ a: LogSummary, _ b: LogSummary) -> Bool {
        same(a.taskLatency, b.taskLatency) && same(a.taskSpeed, b.taskSpeed) && same(a.e2eLatency, b.e2eLatency)
            && same(a.e2eSpeed, b.e2eSpeed)
    }
}
