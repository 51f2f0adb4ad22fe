import AIOBench
import ArgumentParser
import Foundation

/// The `aio-bench` command: measure, sweep and tune async NVMe I/O (DeepSpeed's ds_io and ds_nvme_tune).
@main
struct AioBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aio-bench",
        abstract: "Measure and tune async NVMe I/O: DeepSpeed's ds_io and ds_nvme_tune, in Swift.",
        version: AIOBenchVersion.current,
        subcommands: [TuneCommand.self, IOCommand.self, SweepCommand.self, ParseCommand.self,
                      GenerateCommand.self, ReportCommand.self, DoctorCommand.self, FioEquivalentCommand.self])

    /// Parses and runs; every failure ends in one line on stderr and exit 64 (usage) or 1 (runtime).
    static func main() async {
        EngineRefusal.applyEnvironment()
        do {
            try ConsoleText.checkCommandLine()
        } catch {
            fail(error.description, code: error.exitCode)
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as BenchError {
            fail(error.description, code: error.exitCode)
        } catch {
            if let wrapped = benchError(wrappedIn: error) {
                // A value parser's error (--io_size, --engine): its own line, as the command would print it.
                fail(wrapped.description, code: wrapped.exitCode)
            }
            let code = exitCode(for: error)
            if code == .success {
                // --help, --version: the full text, on stdout.
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? ""
            if message.isEmpty { Foundation.exit(code.rawValue) }
            let usage = code == .validationFailure || error is ValidationError
            fail(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message,
                 code: usage ? 64 : code.rawValue)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("aio-bench: \(ConsoleText.oneLine(message))\n".utf8))
        Foundation.exit(code)
    }
}

/// Prints to stdout and flushes (output may be piped while a long run goes on).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Prints one warning line to stderr.
func warn(_ line: String) {
    FileHandle.standardError.write(Data("aio-bench: warning: \(ConsoleText.oneLine(line))\n".utf8))
}
