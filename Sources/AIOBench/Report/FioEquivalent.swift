import AsyncIO
import Foundation

/// The fio run that does the same I/O as one aio-bench configuration, built exactly as
/// `shared/bench/vs-fio.sh` builds it: one file, `io_parallel` jobs each on its own contiguous
/// `size / io_parallel` slice (`--offset_increment`), `O_DIRECT`, the same block size and queue depth,
/// and a whole batch per submit call (`--iodepth_batch_submit`) unless single submit.
///
/// `arguments` is an argv array for `Process` (never a shell string); `displayCommand` is for printing only.
/// One difference from vs-fio.sh: fio splits `--filename` at `:`, so a colon in the path is written `\:`
/// as fio's documentation asks (vs-fio.sh passes it unescaped, which fio misreads).
public struct FioEquivalent: Sendable, Equatable {
    /// The fio I/O engine, the same kernel interface as aio-bench's engine.
    enum Engine: String, Sendable, CaseIterable {
        /// io_uring (aio-bench `--engine io_uring`).
        case ioUring = "io_uring"
        /// Linux kernel AIO (aio-bench `--engine aio`).
        case libaio
        /// pread/pwrite on threads (aio-bench `--engine posix`).
        case psync
        /// No I/O at all: compares the tools' own per-request cost (aio-bench `--engine null`).
        case null
    }

    /// The program to run.
    package static let program = "fio"

    /// The job name (`--name`).
    var name: String
    /// The folder holding the data file.
    var directory: String
    /// The data file's name inside `directory`.
    var fileName: String
    /// The fio engine.
    var engine: Engine
    /// Read or write (`--rw`).
    var operation: IOOperation
    /// The aio-bench configuration this run mirrors: block size (`--bs`), queue depth (`--iodepth`),
    /// intra-op parallelism (`--numjobs`), single submit (else `--iodepth_batch_submit=<queue depth>`).
    /// Its engine is not used: `engine` names fio's.
    var config: HandleConfig
    /// Bytes each job moves (`--size`), also the distance between the jobs' slices (`--offset_increment`).
    var sizePerJob: Int

    /// Bytes per request (`--bs`).
    var blockSize: Int { config.blockSize }
    /// Requests in flight per job (`--iodepth`).
    var queueDepth: Int { config.queueDepth }
    /// The number of jobs (`--numjobs`).
    var intraOpParallelism: Int { config.intraOpParallelism }
    /// One submit call per request.
    var singleSubmit: Bool { config.singleSubmit }

    /// Creates the fio equivalent of a configuration that moves `sizePerJob` bytes per job.
    init(
        directory: String, operation: IOOperation, sizePerJob: Int, blockSize: Int, queueDepth: Int,
        intraOpParallelism: Int, singleSubmit: Bool, engine: Engine = .ioUring, name: String = "vsfio",
        fileName: String = "_vsfio_data"
    ) {
        self.name = name
        self.directory = directory
        self.fileName = fileName
        self.engine = engine
        self.operation = operation
        self.config = HandleConfig(blockSize: blockSize, queueDepth: queueDepth, singleSubmit: singleSubmit,
                                   intraOpParallelism: intraOpParallelism)
        self.sizePerJob = sizePerJob
    }

    /// Creates the fio equivalent of a configuration that moves `ioSize` bytes in all, split evenly over
    /// `intraOpParallelism` jobs (whole division, as vs-fio.sh does).
    init(
        directory: String, operation: IOOperation, ioSize: Int, blockSize: Int, queueDepth: Int,
        intraOpParallelism: Int, singleSubmit: Bool, engine: Engine = .ioUring
    ) {
        self.init(
            directory: directory, operation: operation, sizePerJob: ioSize / max(intraOpParallelism, 1),
            blockSize: blockSize, queueDepth: queueDepth, intraOpParallelism: intraOpParallelism, singleSubmit: singleSubmit,
            engine: engine)
    }

    /// The data file's path: `directory` and `fileName` joined by one `/`.
    var filePath: String {
        directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
    }

    /// The arguments after the program name, in vs-fio.sh's order.
    var arguments: [String] {
        var args = [
            "--name=\(name)", "--filename=\(filePath.replacingOccurrences(of: ":", with: "\\:"))",
            "--ioengine=\(engine.rawValue)", "--direct=1",
            "--rw=\(operation.rawValue)", "--bs=\(blockSize)", "--iodepth=\(queueDepth)",
            "--numjobs=\(intraOpParallelism)", "--size=\(sizePerJob)", "--offset_increment=\(sizePerJob)",
            "--group_reporting", "--output-format=json",
        ]
        if !singleSubmit { args.append("--iodepth_batch_submit=\(queueDepth)") }
        return args
    }

    /// The command for printing: `fio` and each argument, single-quoted where a shell would otherwise
    /// change it. Run `arguments` instead of this text.
    public var displayCommand: String {
        ([Self.program] + arguments).map(Self.shellQuote).joined(separator: " ")
    }

    /// Reads a command printed by `displayCommand` back into its configuration.
    ///
    /// - Throws: `BenchError.usage` when the text is not such a fio command, naming what is wrong.
    static func parse(displayCommand: String) throws(BenchError) -> FioEquivalent {
        let words = try shellWords(displayCommand)
        guard let first = words.first, PathName.lastComponent(of: first) == program else {
            throw .usage("'\(displayCommand.prefix(40))' does not start with \(program)")
        }
        return try parse(arguments: Array(words.dropFirst()))
    }

    /// Reads fio arguments (without the program name) built by `arguments` back into their configuration.
    ///
    /// - Throws: `BenchError.usage` for an unknown or missing option, or options that are no aio-bench
    ///   equivalent (not `--direct=1`, `--size` other than `--offset_increment`, a batch other than the depth).
    static func parse(arguments: [String]) throws(BenchError) -> FioEquivalent {
        let flags: Set = ["--group_reporting"]
        let known: Set = [
            "--name", "--filename", "--ioengine", "--direct", "--rw", "--bs", "--iodepth", "--numjobs", "--size",
            "--offset_increment", "--output-format", "--iodepth_batch_submit",
        ]
        var values: [String: String] = [:]
        for argument in arguments {
            if flags.contains(argument) { continue }
            guard let equals = argument.firstIndex(of: "=") else {
                throw .usage("fio argument '\(argument)' is not --option=value")
            }
            let key = String(argument[..<equals])
            guard known.contains(key) else { throw .usage("fio option '\(key)' has no aio-bench equivalent") }
            guard values[key] == nil else { throw .usage("fio option '\(key)' is given twice") }
            values[key] = String(argument[argument.index(after: equals)...])
        }
        func value(_ key: String) throws(BenchError) -> String {
            guard let text = values[key] else { throw .usage("fio command lacks \(key)") }
            return text
        }
        func size(_ key: String) throws(BenchError) -> Int { try ByteSize.parse(value(key), name: key) }
        func count(_ key: String) throws(BenchError) -> Int {
            let text = try value(key)
            guard let number = Int(text), number > 0 else {
                throw .usage("fio \(key) '\(text)' must be a positive whole number")
            }
            return number
        }
        guard try value("--direct") == "1" else { throw .usage("fio command lacks --direct=1") }
        let engineText = try value("--ioengine")
        guard let engine = Engine(rawValue: engineText) else {
            let allowed = Engine.allCases.map(\.rawValue).joined(separator: ", ")
            throw .usage("fio --ioengine '\(engineText)' is not one of \(allowed)")
        }
        let rw = try value("--rw")
        guard let operation = IOOperation(rawValue: rw) else {
            throw .usage("fio --rw '\(rw)' is not read or write")
        }
        let sizePerJob = try size("--size")
        guard try size("--offset_increment") == sizePerJob else {
            throw .usage("fio --offset_increment differs from --size: the jobs' slices would overlap or leave gaps")
        }
        let queueDepth = try count("--iodepth")
        var singleSubmit = true
        if values["--iodepth_batch_submit"] != nil {
            guard try count("--iodepth_batch_submit") == queueDepth else {
                throw .usage("fio --iodepth_batch_submit differs from --iodepth: no aio-bench equivalent")
            }
            singleSubmit = false
        }
        let path = try value("--filename").replacingOccurrences(of: "\\:", with: ":")
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let fileName = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return FioEquivalent(
            directory: directory, operation: operation, sizePerJob: sizePerJob, blockSize: try size("--bs"),
            queueDepth: queueDepth, intraOpParallelism: try count("--numjobs"), singleSubmit: singleSubmit,
            engine: engine, name: try value("--name"), fileName: fileName)
    }

    /// One word for a POSIX shell: unchanged when it holds only characters no shell treats specially,
    /// otherwise in single quotes (a `'` inside becomes `'\''`).
    static func shellQuote(_ word: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_")
        if !word.isEmpty, word.allSatisfy(safe.contains) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Splits text into words as a POSIX shell would, without expanding anything: blanks separate words,
    /// single quotes keep everything, double quotes keep everything but `\"`, `\\`, `\$` and `` \` ``, and a
    /// backslash outside quotes keeps the next character.
    ///
    /// - Throws: `BenchError.usage` for an unclosed quote or a trailing backslash.
    static func shellWords(_ text: String) throws(BenchError) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var chars = text.makeIterator()
        while let c = chars.next() {
            switch c {
            case " ", "\t", "\n":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "'":
                inWord = true
                var closed = false
                while let d = chars.next() {
                    if d == "'" { closed = true; break }
                    word.append(d)
                }
                guard closed else { throw .usage("unclosed single quote in '\(text)'") }
            case "\"":
                inWord = true
                var closed = false
                while let d = chars.next() {
                    if d == "\"" { closed = true; break }
                    if d == "\\" {
                        guard let e = chars.next() else { break }
                        if !["\"", "\\", "$", "`", "\n"].contains(e) { word.append(d) }
                        if e != "\n" { word.append(e) }
                    } else {
                        word.append(d)
                    }
                }
                guard closed else { throw .usage("unclosed double quote in '\(text)'") }
            case "\\":
                guard let d = chars.next() else { throw .usage("trailing backslash in '\(text)'") }
                inWord = true
                if d != "\n" { word.append(d) }
            default:
                inWord = true
                word.append(c)
            }
        }
        if inWord { words.append(word) }
        return words
    }
}

/// The bandwidth fio reports in its JSON output (`--output-format=json`).
struct FioResult: Sendable, Equatable {
    /// Read bandwidth summed over the jobs, bytes per second.
    var readBytesPerSecond: Double
    /// Write bandwidth summed over the jobs, bytes per second.
    var writeBytesPerSecond: Double

    /// Creates a result.
    init(readBytesPerSecond: Double, writeBytesPerSecond: Double) {
        self.readBytesPerSecond = readBytesPerSecond
        self.writeBytesPerSecond = writeBytesPerSecond
    }

    /// Read plus write, what vs-fio.sh compares.
    var totalBytesPerSecond: Double { readBytesPerSecond + writeBytesPerSecond }

    /// The parts of fio's JSON this reads.
    private struct Output: Decodable {
        struct Job: Decodable {
            struct Direction: Decodable {
                /// Bytes per second (fio 3.x).
                var bw_bytes: Double?
                /// KiB per second (every fio version).
                var bw: Double?

                var bytesPerSecond: Double? { bw_bytes ?? bw.map { $0 * 1024 } }
            }

            var jobname: String?
            var error: Int?
            var read: Direction?
            var write: Direction?
        }

        var jobs: [Job]
    }

    /// Parses fio's JSON output, summing `read.bw_bytes` and `write.bw_bytes` over the jobs (one job with
    /// `--group_reporting`); `bw` (KiB/s) is used where `bw_bytes` is missing. Lines fio prints before the
    /// JSON (warnings, notes) and after it are skipped.
    ///
    /// - Throws: `BenchError.runtime` when there is no JSON, no job, or a job reports an error.
    static func parse(json text: String) throws(BenchError) -> FioResult {
        guard let start = text.firstIndex(of: "{"), let end = text.lastIndex(of: "}"), start < end else {
            throw .runtime("fio printed no JSON output")
        }
        let output: Output
        do {
            output = try JSONDecoder().decode(Output.self, from: Data(text[start...end].utf8))
        } catch {
            throw .runtime("fio's JSON output cannot be read: \(error)")
        }
        guard !output.jobs.isEmpty else { throw .runtime("fio's JSON output has no jobs") }
        var result = FioResult(readBytesPerSecond: 0, writeBytesPerSecond: 0)
        for job in output.jobs {
            if let error = job.error, error != 0 {
                let why = Errno(rawValue: Int32(clamping: error)).message
                throw .runtime("fio job \(job.jobname ?? "?") failed with error \(error) (\(why))")
            }
            result.readBytesPerSecond += job.read?.bytesPerSecond ?? 0
            result.writeBytesPerSecond += job.write?.bytesPerSecond ?? 0
        }
        return result
    }
}
