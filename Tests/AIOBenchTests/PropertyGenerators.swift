@testable import AIOBench
import AsyncIO
import Foundation
import PropertyBased
import Testing

// Random inputs for the property tests in PropertyTests.swift.

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
            singleSubmit: Bool.random(using: &rng), overlapEvents: Bool.random(using: &rng),
            intraOpParallelism: positive(using: &rng), tasksPerFolder: positive(using: &rng),
            folderCount: positive(using: &rng),
            engine: EngineKind.allCases.randomElement(using: &rng)!)
    }

    /// The log file name of a random configuration, tagged or not.
    static func logFileName(using rng: inout some RandomNumberGenerator) -> String {
        configuration(using: &rng).logFileName(operation: IOOperation.allCases.randomElement(using: &rng)!,
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
        let operation: IOOperation? = Int.random(in: 0..<4, using: &rng) == 0 ? nil
            : IOOperation.allCases.randomElement(using: &rng)!
        return SweepLog(
            operation: operation,
            configuration: Bool.random(using: &rng) ? configuration(using: &rng) : nil,
            engine: Bool.random(using: &rng) ? EngineKind.allCases.randomElement(using: &rng)!.rawValue : nil,
            ioSize: Bool.random(using: &rng) ? positive(using: &rng) : nil,
            notes: (0..<Int.random(in: 0...4, using: &rng)).map { _ in text(&rng) },
            trialResults: (0..<Int.random(in: 0...7, using: &rng)).map { _ in trial(using: &rng) },
            error: Int.random(in: 0..<3, using: &rng) == 0 ? text(&rng) : nil)
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
                values = Array(EngineKind.allCases.map(\.rawValue).shuffled(using: &rng).prefix(Int.random(in: 1...3,
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
