import Foundation

// aio-bench-fuzz: feeds bytes to the parsers of AIOBench (see `FuzzTarget`).
//
// Two builds of one file:
// - Plain `swift build` (no FUZZING): a replayer. `aio-bench-fuzz [logs|sweep|names] FILE...` runs each file
//   through one target, or through every target when none is named; a crash input saved by libFuzzer is
//   replayed this way under the debugger or in a plain build.
// - `scripts/fuzz.sh` builds it with `-sanitize=fuzzer -DFUZZING -enable-experimental-feature Extern`: the
//   libFuzzer driver runs with the target named by the environment variable AIO_FUZZ_TARGET (default `logs`),
//   so that the children libFuzzer starts itself (-fork, -jobs, -minimize_crash) fuzz the same target.
//
// Both builds keep `@main`: SwiftPM links every Swift executable with `main` renamed from `aio_bench_fuzz_main`,
// so the fuzzing build cannot leave `main` to libFuzzer; it calls libFuzzer's `LLVMFuzzerRunDriver` instead.

#if FUZZING
@_extern(c, "LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// libFuzzer's entry point: one input for the target chosen at start.
@_cdecl("LLVMFuzzerTestOneInput")
public func llvmFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzMain.target.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}
#endif

@main
enum FuzzMain {
    #if FUZZING
    /// The target of this process, from AIO_FUZZ_TARGET.
    static let target: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["AIO_FUZZ_TARGET"] ?? FuzzTarget.logs.rawValue
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data(("aio-bench-fuzz: AIO_FUZZ_TARGET '\(name)' is not one of "
                + FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ") + "\n").utf8))
            exit(64)
        }
        return target
    }()

    static func main() {
        _ = target
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(llvmFuzzerRunDriver(&argc, &argv, llvmFuzzerTestOneInput))
    }
    #else
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var targets = FuzzTarget.allCases
        if let first = arguments.first, let target = FuzzTarget(rawValue: first) {
            targets = [target]
            arguments.removeFirst()
        }
        guard !arguments.isEmpty else {
            FileHandle.standardError.write(Data(("usage: aio-bench-fuzz [" + FuzzTarget.allCases.map(\.rawValue)
                .joined(separator: "|") + "] FILE...  (replays inputs; scripts/fuzz.sh builds the fuzzer)\n").utf8))
            exit(64)
        }
        for path in arguments {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("aio-bench-fuzz: cannot read \(path)\n".utf8))
                exit(1)
            }
            for target in targets {
                data.withUnsafeBytes { raw in target.run(raw.bindMemory(to: UInt8.self)) }
            }
        }
        print("aio-bench-fuzz: \(arguments.count) input\(arguments.count == 1 ? "" : "s") passed "
            + targets.map(\.rawValue).joined(separator: ", "))
    }
    #endif
}
