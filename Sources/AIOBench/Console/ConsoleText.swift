import AsyncIO

/// Text for a terminal: one line per message, and command-line arguments as bytes.
public enum ConsoleText {
    /// `text` with control characters escaped (`\n`, `\r`, `\t`, `\u{1b}`), so a path or value that
    /// contains a newline still makes one line on stderr.
    public static func oneLine(_ text: String) -> String {
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

    /// Whether standard error is a terminal, where progress lines may redraw themselves.
    public static var standardErrorIsTerminal: Bool { SystemInfo.standardErrorIsTerminal }

    /// Checks that every argument this process received is valid UTF-8 (see `checkUTF8(_:)`).
    public static func checkCommandLine() throws(BenchError) { try checkUTF8(SystemInfo.rawArguments()) }

    /// Checks that every command-line argument is valid UTF-8. Swift would turn other bytes into
    /// U+FFFD and so name another file or folder (and `sweep --log_dir` would create it).
    ///
    /// - Parameter arguments: the bytes of `argv[1...]`.
    /// - Throws: `BenchError.usage` naming the first bad argument (numbered from 1) with its bytes
    ///   shown as `\xNN` (printable ASCII as it is).
    static func checkUTF8(_ arguments: [[UInt8]]) throws(BenchError) {
        for (offset, bytes) in arguments.enumerated() where String(validating: bytes, as: UTF8.self) == nil {
            let shown = bytes.map { b in
                b >= 0x20 && b < 0x7F ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16, uppercase: false)
            }.joined()
            throw .usage("argument \(offset + 1) is not valid UTF-8: '\(shown)'; aio-bench takes file and folder "
                + "names as UTF-8: rename it, or pass a symbolic link with a UTF-8 name")
        }
    }
}
