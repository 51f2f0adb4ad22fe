import AIOBench
import AsyncIO
import Foundation
import PropertyBased
import Testing

// Property-based tests of the four parsers that read what users and other tools write: size strings, log
// file names, log contents and sweep-config JSON. Random and mutated inputs must never crash (a parser returns
// a value, nil, or throws `BenchError`); values built from valid parts must survive format → parse unchanged.
// A failure prints the input and a `.fixedSeed(...)` trait that replays it.

// MARK: - Building random values

/// Random values for the parsers, drawn from a property check's random number generator.
enum Arbitrary {
    /// A generator without a shrinker around a function of a random source seeded from the property check's
    /// generator (so that `.fixedSeed(...)` replays it).
    static func make<T: Sendable>(_ body: @escaping @Sendable (inout SplitMix64) -> sending T)
        -> Generator<T, Shrink.None<T>> {
        Generator { rng in
            var source = SplitMix64(seed: rng.next())
            return body(&source)
        }
    }

    /// Characters that parsers trip on: separators, signs, units, digits, whitespace of every kind, line breaks,
    /// quotes, escapes, non-ASCII digits and letters, combining marks, emoji and the replacement character.
    static let hostileCharacters: [Character] = Array("0123456789KMGTkmgtBbiI_-+.,:=/ \t")
        + ["\n", "\r", "\r\n", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{2028}", "\u{2029}", "\u{3000}",
           "\"", "'", "\\", "{", "}", "[", "]", "\u{0}", "\u{7F}", "\u{FFFD}", "\u{0301}", "\u{0665}", "\u{FF11}",
           "é", "ß", "ﬀ", "🙂", "👩‍👩‍👧", "e", "E", "x", "n", "a", "t", "d", "p", "s"]

    /// Whole words that parsers look for, so that random text reaches their deeper branches.
    static let hostileWords: [String] = [
        "read", "write", "single", "block", "sequential", "overlap", "ftd", "bs", "_t", "_e", ".txt", "_p", "_d",
        "io_uring", "aio", "posix", "null", "auto", "trial ", "GB/sec", " sec", "(task", "sec)", "Task Read ",
        "Task Write ", "E2E Read ", "E2E Write ", "Latency = ", "Speed = ", "operation: ", "config: ", "engine: ",
        "io_size: ", "note: ", "error: ", "block_size=", "queue_depth=", "nan", "inf", "-inf", "1e308", "1e-400",
        "9223372036854775807", "9223372036854775808", "18446744073709551616", "-0", "0x10", "1_000", "true",
        "false", "null", "\"block_size\"", "\"queue_depth\"", "\"engine\"", "[", "]", "{", "}", ":", ",",
        "\\u0000", "\\uD800", "\\uDBFF\\uDFFF", "\\", "\u{FEFF}", "\u{EF}\u{BB}\u{BF}",
    ]

    /// A random character or word from the hostile lists.
    static func hostilePiece(using rng: inout some RandomNumberGenerator) -> String {
        Bool.random(using: &rng) ? String(hostileCharacters.randomElement(using: &rng)!)
            : hostileWords.randomElement(using: &rng)!
    }

    /// Random text of up to `pieces` hostile pieces.
    static func hostileText(pieces: ClosedRange<Int>, using rng: inout some RandomNumberGenerator) -> String {
        (0..<Int.random(in: pieces, using: &rng)).map { _ in hostilePiece(using: &rng) }.joined()
    }

    /// Lines that each start like a line of a log, with hostile text after.
    static func posingLines(using rng: inout some RandomNumberGenerator) -> String {
        let starts = ["Task Read Latency = ", "E2E Write Speed = ", "trial 1/2: read ", "operation: ",
                      "config: block_size=", "io_size: ", "note: ", "error: ", "engine: "]
        return (0..<Int.random(in: 1...12, using: &rng)).map { _ in
            starts.randomElement(using: &rng)! + hostileText(pieces: 0...8, using: &rng)
        }.joined(separator: "\n")
    }

    /// `text` with one to `maximum` random edits: a character inserted, deleted or replaced, a hostile piece
    /// inserted, a run duplicated, two halves swapped or the text cut short. Works on Unicode scalars so that
    /// edits can split grapheme clusters.
    static func mutate(_ text: String, maximum: Int = 8, using rng: inout some RandomNumberGenerator) -> String {
        var scalars = Array(text.unicodeScalars)
        for _ in 0..<Int.random(in: 1...maximum, using: &rng) {
            let position = Int.random(in: 0...scalars.count, using: &rng)
            switch Int.random(in: 0..<7, using: &rng) {
            case 0:
                scalars.insert(contentsOf: hostilePiece(using: &rng).unicodeScalars, at: position)
            case 1 where !scalars.isEmpty:
                scalars.remove(at: min(position, scalars.count - 1))
            case 2 where !scalars.isEmpty:
                let replacement = hostilePiece(using: &rng).unicodeScalars
                scalars.replaceSubrange(min(position, scalars.count - 1)...min(position, scalars.count - 1),
                                        with: replacement)
            case 3 where !scalars.isEmpty:
                let end = min(scalars.count, position + Int.random(in: 1...40, using: &rng))
                let start = min(position, end)
                scalars.insert(contentsOf: scalars[start..<end], at: start)
            case 4:
                scalars = Array(scalars[position...] + scalars[..<position])
            case 5:
                scalars.removeSubrange(position...)
            default:
                let random = Unicode.Scalar(UInt32.random(in: 0...0x10FFFF, using: &rng)) ?? "\u{FFFD}"
                scalars.insert(random, at: position)
            }
        }
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars)
        return String(result)
    }

    /// Random bytes, most of them not UTF-8.
    static func bytes(count: ClosedRange<Int>, using rng: inout some RandomNumberGenerator) -> [UInt8] {
        (0..<Int.random(in: count, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// A positive byte count: a multiple of one of the units (so that `compact` uses it) or any number.
    static func byteCount(using rng: inout some RandomNumberGenerator) -> Int {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return Int.random(in: 1...Int.max, using: &rng)
        case 1: return Int.random(in: 1...(1 << 20), using: &rng)
        default:
            let shift = [0, 10, 20, 30, 40].randomElement(using: &rng)!
            return Int.random(in: 1...(Int.max >> shift), using: &rng) << shift
        }
    }

    /// A block size as a sweep would hold it: bytes and the text of its log name (compact, or the plain bytes).
    static func blockSize(using rng: inout some RandomNumberGenerator) -> (bytes: Int, text: String) {
        let shift = [0, 10, 20, 30].randomElement(using: &rng)!
        let bytes = Int.random(in: 1...4096, using: &rng) << shift
        return (bytes, Bool.random(using: &rng) ? ByteSize.compact(bytes) : String(bytes))
    }

    /// A count such as a queue depth: small ones mostly, now and then a huge one.
    static func positive(using rng: inout some RandomNumberGenerator) -> Int {
        Int.random(in: 0..<8, using: &rng) == 0 ? Int.random(in: 1...Int.max, using: &rng)
            : Int.random(in: 1...1024, using: &rng)
    }

    /// A configuration of valid values.
    static func configuration(using rng: inout some RandomNumberGenerator) -> SweepConfiguration {
        let block = blockSize(using: &rng)
        return SweepConfiguration(
            blockSize: block.bytes, blockSizeText: block.text, queueDepth: positive(using: &rng),
            singleSubmit: Bool.random(using: &rng), sequentialRequests: Bool.random(using: &rng),
            ioParallel: positive(using: &rng), tasksPerFolder: positive(using: &rng),
            folderCount: positive(using: &rng),
            engine: Bool.random(using: &rng) ? nil : SweepSpace.validEngineNames.randomElement(using: &rng)!)
    }

    /// The log file name of a random configuration, tagged or not.
    static func logFileName(using rng: inout some RandomNumberGenerator) -> String {
        configuration(using: &rng).logFileName(operation: SweepOperation.allCases.randomElement(using: &rng)!,
                                               tagTasksPerFolder: Bool.random(using: &rng),
                                               tagEngine: Bool.random(using: &rng))
    }

    /// Any finite double, from every binade: a random bit pattern, or a plain speed or latency.
    static func finiteDouble(using rng: inout some RandomNumberGenerator) -> Double {
        if Bool.random(using: &rng) { return Double.random(in: 0.000_001...100, using: &rng) }
        while true {
            let value = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng))
            if value.isFinite { return value }
        }
    }

    /// One trial of made-up numbers.
    static func trial(using rng: inout some RandomNumberGenerator) -> LogTrial {
        LogTrial(taskLatency: finiteDouble(using: &rng), taskSpeed: finiteDouble(using: &rng),
                 e2eLatency: finiteDouble(using: &rng), e2eSpeed: finiteDouble(using: &rng))
    }

    /// Text for a note or an error that reads back as written: printable, on one line, no space at either end.
    static func plainLine(using rng: inout some RandomNumberGenerator) -> String {
        let characters: [Character] = Array("abcXYZ019 _-=:/.,()%'\"\\#é漢🙂") + ["ß"]
        var text = String((0..<Int.random(in: 1...60, using: &rng)).map { _ in characters.randomElement(using: &rng)! })
        text = text.trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? "x" : text
    }

    /// A log: an operation (or none), a configuration, an engine, notes, trials and maybe an error; the notes
    /// and error are plain lines when `plainText`, else hostile text that tries to pose as other lines.
    static func sweepLog(plainText: Bool, using rng: inout some RandomNumberGenerator) -> SweepLog {
        func text(_ rng: inout some RandomNumberGenerator) -> String {
            plainText ? plainLine(using: &rng) : hostileText(pieces: 0...30, using: &rng)
        }
        let operation: SweepOperation? = Int.random(in: 0..<4, using: &rng) == 0 ? nil
            : SweepOperation.allCases.randomElement(using: &rng)!
        return SweepLog(
            operation: operation,
            configuration: Bool.random(using: &rng) ? configuration(using: &rng) : nil,
            engine: Bool.random(using: &rng) ? SweepSpace.validEngineNames.randomElement(using: &rng)! : nil,
            ioSize: Bool.random(using: &rng) ? positive(using: &rng) : nil,
            notes: (0..<Int.random(in: 0...4, using: &rng)).map { _ in text(&rng) },
            trialResults: (0..<Int.random(in: 0...7, using: &rng)).map { _ in trial(using: &rng) },
            error: Int.random(in: 0..<3, using: &rng) == 0 ? text(&rng) : nil)
    }
}

/// Steele, Lea and Flood's SplitMix64: a small, fast generator for test inputs.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// MARK: - Sweep configs written as JSON

/// A sweep config built from valid values, with the JSON text that says it and what it must expand to.
struct RandomSweepConfig: Sendable, CustomStringConvertible {
    /// The file's text.
    var json: String
    /// The number of values listed under each key that was written.
    var listLengths: [String: Int]

    var description: String { json }

    /// The product of the list lengths: the number of configurations the sweep must have.
    var expectedCount: Int { listLengths.values.reduce(1, *) }

    /// A random config: some of the keys (at most one of each pair that sets the same thing), in random order,
    /// each with a list of distinct valid values written in one of the accepted ways, with random spacing.
    static func random(using rng: inout some RandomNumberGenerator) -> RandomSweepConfig {
        var keys = ["block_size", "queue_depth", "single_submit", "io_parallel", "engine",
                    Bool.random(using: &rng) ? "sequential_requests" : "overlap_events",
                    Bool.random(using: &rng) ? "threads" : "multi_process"]
        keys = keys.shuffled(using: &rng).filter { _ in Int.random(in: 0..<3, using: &rng) != 0 }
        var members: [String] = []
        var lengths: [String: Int] = [:]
        for key in keys {
            let values: [String]
            switch key {
            case "block_size":
                var seen = Set<Int>()
                values = (0..<Int.random(in: 1...3, using: &rng)).compactMap { _ in
                    let block = Arbitrary.blockSize(using: &rng)
                    guard seen.insert(block.bytes).inserted else { return nil }
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: return String(block.bytes)
                    case 1: return "\"\(block.text)\""
                    default:
                        // Lower-case unit, `iB` or `B` after it, spaces around (a JSON `\t` escape).
                        let compact = ByteSize.compact(block.bytes)
                        let unit = compact.last!.isLetter ? compact.lowercased() + "iB" : compact + "B"
                        return "\" \(unit)\\t\""
                    }
                }
            case "single_submit", "sequential_requests", "overlap_events":
                let flags = [[true], [false], [true, false], [false, true]].randomElement(using: &rng)!
                values = flags.map { flag in
                    Bool.random(using: &rng) ? String(flag) : "\"\(flag ? "True" : "FALSE")\""
                }
            case "engine":
                values = Array(SweepSpace.validEngineNames.shuffled(using: &rng).prefix(Int.random(in: 1...3,
                                                                                                     using: &rng)))
                    .map { "\"\($0)\"" }
            default:
                var seen = Set<Int>()
                values = (0..<Int.random(in: 1...3, using: &rng)).compactMap { _ in
                    let number = Arbitrary.positive(using: &rng)
                    guard seen.insert(number).inserted else { return nil }
                    return Bool.random(using: &rng) ? String(number) : "\"\(number)\""
                }
            }
            lengths[key] = values.count
            let list = values.map { space(&rng) + $0 + space(&rng) }.joined(separator: ",")
            members.append("\(space(&rng))\"\(key)\"\(space(&rng)):\(space(&rng))[\(list)]")
        }
        return RandomSweepConfig(json: "{" + members.joined(separator: ",") + "}", listLengths: lengths)
    }

    /// JSON whitespace: none, a space, a tab or a line break.
    private static func space(_ rng: inout some RandomNumberGenerator) -> String {
        ["", " ", "\t", "\n  ", "\r\n"].randomElement(using: &rng)!
    }
}

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
        for operation in SweepOperation.allCases {
            let folder = SweepFixtures.deepSpeedLogs + "/" + operation.logFolderName
            for name in ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).sorted() {
                if let data = manager.contents(atPath: folder + "/" + name) {
                    texts.append(String(decoding: data, as: UTF8.self))
                }
            }
        }
        texts.append(LogWriter.format(operation: .read, configuration: SweepConfiguration(engine: "io_uring"),
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
                        Gen<SweepOperation>.case, Gen.bool, Gen.bool)
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
                                                        .int(configuration.ioParallel)])
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
            for operation in [nil] + SweepOperation.allCases.map(Optional.some) {
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
            for operation in SweepOperation.allCases {
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
