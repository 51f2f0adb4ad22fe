import AsyncIO
import Foundation

/// `tune --cross-check`: runs DeepSpeed's own `ds_io` on the recommended configuration and compares
/// its E2E speed with aio-bench's, one operation at a time. ds_io is found with `--deepspeed PATH`
/// or on `PATH`; when it is missing the check is skipped with one note, never failed.
public struct DeepSpeedCrossCheck: Sendable {
    /// The program's name.
    static let program = "ds_io"
    /// The note printed when ds_io cannot be found.
    public static let notFoundLine = "cross-check: DeepSpeed's ds_io is not on PATH (give --deepspeed PATH_TO_ds_io; "
        + "../shared/bench/install-deepspeed.sh installs it); skipped"

    /// One operation measured by both.
    package struct Comparison: Sendable, Equatable {
        /// Read or write.
        var operation: IOOperation
        /// aio-bench's figure, GiB/s.
        var aioBenchGiBps: Double
        /// ds_io's E2E speed, GiB/s (what it prints as "GB/sec").
        var deepSpeedGiBps: Double

        /// aio-bench's speed over ds_io's.
        var ratio: Double { deepSpeedGiBps > 0 ? aioBenchGiBps / deepSpeedGiBps : 0 }

        /// `cross-check read: aio-bench 1.234 GiB/s, ds_io 1.200 GiB/s, ratio 1.028 (DeepSpeed)`.
        var line: String {
            String(format: "cross-check %@: aio-bench %.3f GiB/s, ds_io %.3f GiB/s, ratio %.3f (DeepSpeed)",
                   operation.rawValue, aioBenchGiBps, deepSpeedGiBps, ratio)
        }
    }

    /// The ds_io found.
    let executable: String

    /// The ds_io to run: `explicit` (which must be an executable file), else `ds_io` on `PATH`; nil
    /// when neither is there.
    ///
    /// - Throws: `BenchError.usage` when `explicit` names no executable file.
    public init?(explicit: String?) throws(BenchError) {
        if let explicit {
            guard (try? FileSystem.status(of: explicit))?.kind == .regular,
                  FileSystem.isAccessible(explicit, .execute) else {
                throw .usage("--deepspeed '\(explicit)' is not an executable file: give the path of DeepSpeed's ds_io")
            }
            executable = explicit
            return
        }
        guard let found = SystemInfo.findExecutable(Self.program) else { return nil }
        executable = found
    }

    /// ds_io's arguments for `config` on `ioSize` bytes in `folder`: the ds_io flags aio-bench's `io`
    /// takes too, so both measure the same workload.
    static func arguments(_ operation: IOOperation, config: HandleConfig, folder: String, ioSize: Int,
                          loops: Int) -> [String] {
        var args = ["--folder", folder, "--io_size", String(ioSize), "--block_size", String(config.blockSize),
                    "--queue_depth", String(config.queueDepth), "--io_parallel", String(config.intraOpParallelism),
                    "--loops", String(loops), "--warmup_loops", "1"]
        if operation == .read { args.append("--read") }
        if config.singleSubmit { args.append("--single_submit") }
        if !config.overlapEvents { args.append("--sequential_requests") }
        return args
    }

    /// The environment ds_io needs from its virtual environment when it lives in `<venv>/bin`: that
    /// folder first on `PATH` (DeepSpeed starts `ninja` from there to load its ops) and the ops it built
    /// under `<venv>/torch_extensions`.
    private var environment: [String: String] {
        guard executable.hasSuffix("/bin/\(Self.program)") else { return [:] }
        let bin = String(executable.dropLast("/\(Self.program)".count))
        let venv = String(bin.dropLast("/bin".count))
        var environment = ["PATH": bin + ":" + (SystemInfo.environment("PATH") ?? SystemInfo.defaultSearchPath)]
        let extensions = venv + "/torch_extensions"
        if FileSystem.isAccessible(extensions) { environment["TORCH_EXTENSIONS_DIR"] = extensions }
        return environment
    }

    /// Runs ds_io for `operation` and compares its E2E speed with `aioBenchGiBps`. ds_io's data files
    /// (`_aio_<op>_<size>.pt.<t>`) are removed afterwards.
    ///
    /// `timeout` bounds one run (ds_io starts Python and torch first, about 7 s before any I/O).
    ///
    /// - Throws: `BenchError.runtime` when ds_io cannot start, fails, times out or prints no E2E line,
    ///   naming its last line.
    func compare(_ operation: IOOperation, config: HandleConfig, folder: String, ioSize: Int, loops: Int,
                        aioBenchGiBps: Double, timeout: Duration = .seconds(900)) throws(BenchError) -> Comparison {
        // ds_io names its data files `_aio_<op>_<size>.pt.<task>` (0.19.8 adds `_<loop>`): remove the
        // ones this run made, and only those.
        let prefix = "_aio_\(operation.rawValue)_\(ioSize).pt."
        let before = Set(((try? FileSystem.contentsOfDirectory(folder)) ?? []).filter { $0.hasPrefix(prefix) })
        for name in ["0", "0_0"] where !before.contains(prefix + name) {
            ScratchFiles.shared.add(file: "\(folder)/\(prefix)\(name)")
        }
        defer {
            for name in ((try? FileSystem.contentsOfDirectory(folder)) ?? []) where name.hasPrefix(prefix)
                && !before.contains(name) {
                ScratchFiles.shared.remove(file: "\(folder)/\(name)")
            }
        }
        let run: ChildProcess.Output
        do {
            run = try ChildProcess.run(
                executable, arguments: Self.arguments(operation, config: config, folder: folder, ioSize: ioSize,
                                                      loops: loops),
                environment: environment, timeout: timeout)
        } catch {
            throw .runtime("cross-check: could not start \(executable): \(error.description)", cause: error)
        }
        let output = String(decoding: run.standardOutput, as: UTF8.self)
        let errors = String(decoding: run.standardError, as: UTF8.self)
        // A Python crash ends its traceback on stderr with the exception: prefer stderr's last line.
        let lastOf = { (text: String) in text.split(whereSeparator: \.isNewline).last.map(String.init) }
        let last = lastOf(errors) ?? lastOf(output) ?? "no output"
        switch run.termination {
        case .exited(0): break
        case .exited(let code): throw .runtime("cross-check: ds_io failed (exit \(code)): \(last)")
        case .signaled(let signal): throw .runtime("cross-check: ds_io was killed by signal \(signal): \(last)")
        case .timedOut: throw .runtime("cross-check: ds_io gave no result within \(timeout); it was stopped")
        }
        guard let speed = LogParser.parse(output + "\n" + errors, operation: operation).summary.e2eSpeed,
              speed.isFinite, speed > 0 else {
            throw .runtime("cross-check: ds_io printed no E2E \(operation.title) Speed line: \(last)")
        }
        return Comparison(operation: operation, aioBenchGiBps: aioBenchGiBps, deepSpeedGiBps: speed)
    }
}
