import Dispatch
import Foundation

/// Runs another program to completion: the one place of `AIOBench` that starts a child process.
///
/// The program gets an argv array, never a shell command line built from user values. Callers
/// see only `run(executable:arguments:)`.
public enum ChildProcess {
    /// Runs `executable` with `arguments` (argv[1...]), waits for it to exit, and returns its exit
    /// status and everything it wrote to stdout and stderr (decoded as UTF-8). Both pipes are
    /// drained at the same time, so a program that fills one of them cannot stall.
    ///
    /// - Parameters:
    ///   - executable: the program's path (see `ProgramSearch.find(_:)`).
    ///   - arguments: the arguments after the program name.
    /// - Returns: the exit status (for a program killed by a signal, the signal number), stdout, stderr.
    /// - Throws: `BenchError.runtime` when the program cannot be started, naming it and why.
    public static func run(executable: String, arguments: [String]) throws(BenchError)
        -> (status: Int32, stdout: String, stderr: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw .runtime("could not start \(executable): \(error)")
        }
        let errorText = PipeText()
        let reading = DispatchGroup()
        DispatchQueue.global().async(group: reading) {
            errorText.data = errors.fileHandleForReading.readDataToEndOfFile()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        reading.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self),
                String(decoding: errorText.data, as: UTF8.self))
    }
}

/// What one pipe delivered, written by the reading thread before `DispatchGroup.leave` and read
/// after `wait`, which orders the two.
private final class PipeText: @unchecked Sendable {
    var data = Data()
}
