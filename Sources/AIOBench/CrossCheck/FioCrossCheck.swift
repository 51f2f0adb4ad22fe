import AsyncIO
import Foundation

/// `tune --cross-check`: runs fio on the recommended configuration, on the first measured folder,
/// and compares its speed with aio-bench's median, one operation at a time.
public struct FioCrossCheck: Sendable {
    /// One fio run and the aio-bench figure it is compared with.
    public struct Job: Sendable, Equatable {
        /// The fio run: same engine, block size, queue depth, jobs and bytes.
        var fio: FioEquivalent
        /// aio-bench's median speed of the configuration for this operation, GiB/s.
        var aioBenchGiBps: Double
    }

    /// One operation measured by both tools.
    public struct Comparison: Sendable, Equatable {
        /// Read or write.
        var operation: IOOperation
        /// aio-bench's median speed, GiB/s.
        var aioBenchGiBps: Double
        /// fio's speed, GiB/s.
        var fioGiBps: Double
        /// The fio engine used.
        var engine: FioEquivalent.Engine

        /// aio-bench's speed over fio's (0 when fio measured nothing).
        var ratio: Double { fioGiBps > 0 ? aioBenchGiBps / fioGiBps : 0 }

        /// `cross-check read: aio-bench 1.234 GiB/s, fio 1.200 GiB/s, ratio 1.028 (fio io_uring)`.
        public var line: String {
            String(format: "cross-check %@: aio-bench %.3f GiB/s, fio %.3f GiB/s, ratio %.3f (fio %@)",
                   operation.rawValue, aioBenchGiBps, fioGiBps, ratio, engine.rawValue)
        }
    }

    /// The line to print when fio is not installed (the check is skipped, not failed).
    public static let notInstalledLine = "cross-check: fio is not installed (apt-get install fio); skipped"

    /// The name of fio's data file in the measured folder (removed afterwards).
    static let dataFileName = "_aio_bench_fio_check"

    /// How long one fio run may take before it is killed: far more than a cross-check of any
    /// sweep size needs, so only a hung fio meets it.
    static let timeout: Duration = .seconds(600)

    /// The fio program found.
    let executable: String
    /// The runs, read first, for each operation that was swept and has a median.
    public let jobs: [Job]

    /// Prepares the cross-check of `result`'s best configuration, swept with `options`; nil when
    /// `executable` is nil (fio is not on `PATH`).
    ///
    /// The fio engine is the configuration's engine (else the sweep's) as resolved on this machine;
    /// the size is `options.ioSize` rounded down to a multiple of `io_parallel`.
    public init?(result: TuningResult, options: SweepOptions) {
        self.init(result: result, options: options, executable: SystemInfo.findExecutable(FioEquivalent.program))
    }

    /// As `init?(result:options:)`, with the fio found (nil: none).
    init?(result: TuningResult, options: SweepOptions, executable: String?) {
        guard let executable else { return nil }
        self.executable = executable
        let config = result.best.configuration
        // The engine the sweep ran: the configuration's, else the sweep's, as the target resolves it.
        let asked = config.engine ?? options.engine
        let engine = FioEquivalent.Engine(resolving: (try? options.target.engine(asked: asked)) ?? asked)
        var jobs: [Job] = []
        for (operation, ours) in TuneFollowUp.medians(result, options) {
            var fio = FioEquivalent(
                directory: options.nvmeDirs[0], operation: operation,
                ioSize: options.ioSize / config.intraOpParallelism * config.intraOpParallelism, blockSize: config.blockSize,
                queueDepth: config.queueDepth, intraOpParallelism: config.intraOpParallelism, singleSubmit: config.singleSubmit,
                engine: engine)
            fio.fileName = Self.dataFileName
            jobs.append(Job(fio: fio, aioBenchGiBps: ours))
        }
        self.jobs = jobs
    }

    /// Runs fio for `job` and compares. fio's data file is removed afterwards (and on Ctrl-C); before a
    /// read, any old one is removed first, so that fio lays the file out itself.
    ///
    /// - Throws: `BenchError.runtime` when fio cannot start, fails, or prints no usable JSON.
    public func run(_ job: Job) throws(BenchError) -> Comparison {
        let path = job.fio.filePath
        if job.fio.operation == .read { ScratchFiles.shared.remove(file: path) }
        ScratchFiles.shared.add(file: path)
        defer { ScratchFiles.shared.remove(file: path) }
        let run: ChildProcess.Output
        do {
            run = try ChildProcess.run(executable, arguments: job.fio.arguments, timeout: Self.timeout)
        } catch {
            throw .runtime("cross-check: could not start \(executable): \(error.description)", cause: error)
        }
        guard run.succeeded else {
            let stderr = String(decoding: run.standardError, as: UTF8.self)
            let status = switch run.termination {
            case .exited(let code): "exit \(code)"
            case .signaled(let signal): "killed by signal \(signal)"
            case .timedOut: "no result after \(Self.timeout)"
            }
            let first = stderr.split(separator: "\n").first.map(String.init) ?? status
            throw .runtime("cross-check: fio failed: \(first)")
        }
        let measured = try FioResult.parse(json: String(decoding: run.standardOutput, as: UTF8.self))
        let bytesPerSecond = job.fio.operation == .read ? measured.readBytesPerSecond : measured.writeBytesPerSecond
        return Comparison(operation: job.fio.operation, aioBenchGiBps: job.aioBenchGiBps,
                          fioGiBps: bytesPerSecond / 1_073_741_824, engine: job.fio.engine)
    }
}
