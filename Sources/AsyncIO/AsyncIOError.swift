import Glibc

/// The one error type of `AsyncIO`: what was being done, to which file, and why.
///
/// Every failure that reaches a caller names the operation (`open`, `io_submit`, `read`, ...),
/// the path when there is one, the file offset when the failure belongs to a request, and
/// `errno` when the kernel reported one. `description` renders all of it on one line.
public struct AsyncIOError: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Kind: String, Sendable, Equatable, Codable {
        /// The kernel refused a call; `errno` says why.
        case system
        /// A value passed in is outside what is allowed; `message` says which and what is.
        case invalidArgument
        /// A read met the end of the file before the requested bytes were transferred.
        case unexpectedEndOfFile
        /// The engine or feature is not available on this machine.
        case unsupported
        /// The operation was cancelled (its task was cancelled, or `IOTicket.cancel()` was
        /// called) before all of it was transferred. Bytes already transferred stay transferred.
        case cancelled
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// The operation or system call that failed, for example `io_submit` or `open`.
    public var operation: String
    /// The file involved, if any.
    public var path: String?
    /// The kernel's error number, if the kernel reported one.
    public var errno: Errno?
    /// The file offset of the failing request, if the failure belongs to one.
    public var offset: Int64?
    /// Extra words: the allowed values, or a hint on what to change.
    public var message: String?

    /// Creates an error from its parts.
    public init(
        _ kind: Kind, operation: String, path: String? = nil, errno: Int32? = nil,
        offset: Int64? = nil, message: String? = nil
    ) {
        self.kind = kind
        self.operation = operation
        self.path = path
        self.errno = errno.map(Errno.init(rawValue:))
        self.offset = offset
        self.message = message
    }

    /// An error for a failed system call, from its errno.
    package static func system(
        _ operation: String, errno: Int32, path: String? = nil, offset: Int64? = nil, hint: String? = nil
    ) -> AsyncIOError {
        AsyncIOError(.system, operation: operation, path: path, errno: errno, offset: offset, message: hint)
    }

    /// An error for a value outside what is allowed.
    package static func invalid(_ operation: String, _ message: String, path: String? = nil) -> AsyncIOError {
        AsyncIOError(.invalidArgument, operation: operation, path: path, message: message)
    }

    /// An error for an operation stopped by cancellation.
    package static func cancelled(_ operation: String, path: String? = nil) -> AsyncIOError {
        AsyncIOError(.cancelled, operation: operation, path: path,
                     message: "cancelled; requests already in flight were cancelled or waited for")
    }

    /// The symbolic name of an errno value (`ENOSPC`), or `errno N` when unknown.
    package static func errnoName(_ code: Int32) -> String {
        switch code {
        case EPERM: "EPERM"
        case ENOENT: "ENOENT"
        case EINTR: "EINTR"
        case EIO: "EIO"
        case EBADF: "EBADF"
        case EAGAIN: "EAGAIN"
        case ENOMEM: "ENOMEM"
        case EACCES: "EACCES"
        case EFAULT: "EFAULT"
        case EBUSY: "EBUSY"
        case EEXIST: "EEXIST"
        case ENOTDIR: "ENOTDIR"
        case EISDIR: "EISDIR"
        case EINVAL: "EINVAL"
        case EFBIG: "EFBIG"
        case ENOSPC: "ENOSPC"
        case EROFS: "EROFS"
        case ENOSYS: "ENOSYS"
        case ELOOP: "ELOOP"
        case EOPNOTSUPP: "EOPNOTSUPP"
        case EDQUOT: "EDQUOT"
        case ENAMETOOLONG: "ENAMETOOLONG"
        default: "errno \(code)"
        }
    }

    /// One line: operation, path, offset, the kernel's words and errno, and the hint.
    public var description: String {
        var text = operation
        if let path { text += " \(path)" }
        if let offset { text += " at offset \(offset)" }
        if let errno {
            let reason = String(cString: strerror(errno.rawValue))
            text += ": \(reason) (\(errno))"
            if let message { text += "; \(message)" }
        } else if let message {
            text += ": \(message)"
        }
        return text
    }
}
