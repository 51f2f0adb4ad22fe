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
        if let bad = firstNonUTF8Argument() {
            // Swift would turn the bytes into U+FFFD and so name another file or folder (and
            // `sweep --log_dir` would create it): refuse instead.
            fail("argument \(bad.index) is not valid UTF-8: '\(bad.shown)'; aio-bench takes file and folder names "
                 + "as UTF-8: rename it, or pass a symbolic link with a UTF-8 name", code: 64)
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
        FileHandle.standardError.write(Data("aio-bench: \(oneLine(message))\n".utf8))
        Foundation.exit(code)
    }
}

/// The first command-line argument whose bytes are not valid UTF-8, with those bytes shown as
/// `\xNN` (printable ASCII as it is), or nil when every argument is valid.
func firstNonUTF8Argument() -> (index: Int, shown: String)? {
    for index in 1..<Int(CommandLine.argc) {
        guard let arg = CommandLine.unsafeArgv[index] else { continue }
        let bytes = UnsafeRawBufferPointer(start: arg, count: strlen(arg))
        if String(validating: bytes, as: UTF8.self) != nil { continue }
        let shown = bytes.map { b in
            b >= 0x20 && b < 0x7F ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16, uppercase: false)
        }.joined()
        return (index, shown)
    }
    return nil
}

/// `text` with control characters escaped (`\n`, `\r`, `\t`, `\u{1b}`), so a path or value
/// that contains a newline still makes one line on stderr.
func oneLine(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            out += "\\u{\(String(scalar.value, radix: 16))}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// Prints to stdout and flushes (output may be piped while a long run goes on).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Prints one warning line to stderr.
func warn(_ line: String) {
    FileHandle.standardError.write(Data("aio-bench: warning: \(oneLine(line))\n".utf8))
}
