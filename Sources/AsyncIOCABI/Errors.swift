import AsyncIO

/// Where a C call reports its error: the errno (or the closest one for errors without one) and a
/// one-line message, written into the caller's buffer (NUL-terminated, cut to fit).
struct ErrorOut {
    let code: UnsafeMutablePointer<Int32>?
    let message: UnsafeMutablePointer<CChar>?
    let capacity: Int64

    /// Writes `error`; returns -1, what every failing call returns.
    @discardableResult
    func report(_ error: AsyncIOError) -> Int64 {
        code?.pointee = error.errno?.rawValue ?? ErrorOut.code(for: error.kind)
        write(error.description)
        return -1
    }

    /// Writes a message with `code`; returns -1.
    @discardableResult
    func report(code value: Int32, _ text: String) -> Int64 {
        code?.pointee = value
        write(text)
        return -1
    }

    private func write(_ text: String) {
        guard let message, capacity > 0 else { return }
        let bytes = Array(text.utf8.prefix(Int(capacity) - 1))
        for (i, byte) in bytes.enumerated() { message[i] = CChar(bitPattern: byte) }
        message[bytes.count] = 0
    }

    /// The errno a Python caller sees for an error the kernel did not report.
    static func code(for kind: AsyncIOError.Kind) -> Int32 {
        switch kind {
        case .system: 5             // EIO
        case .invalidArgument: 22   // EINVAL
        case .unexpectedEndOfFile: 61  // ENODATA: the file holds fewer bytes than asked for
        case .unsupported: 95       // EOPNOTSUPP
        case .cancelled: 125        // ECANCELED
        }
    }
}

/// A C string argument as a Swift string (nil pointer: empty).
func string(_ pointer: UnsafePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
}
