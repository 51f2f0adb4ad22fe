import Glibc

/// The name the tool's code uses for `AsyncIOError.Errno`.
package typealias Errno = AsyncIOError.Errno

extension AsyncIOError {
    /// A kernel error number as a typed value, so callers can branch on the cause of an
    /// `AsyncIOError` without importing Glibc or reading message text (`error.errno == .noSpace`).
    /// Nested, so it does not clash with swift-system's `Errno`.
    public struct Errno: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        /// The raw `errno` value.
        public var rawValue: Int32

        /// Wraps a raw `errno` value.
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// `ENOENT`: no such file or folder.
        public static let noSuchFile = Errno(rawValue: ENOENT)
        /// `EEXIST`: the path exists already.
        package static let fileExists = Errno(rawValue: EEXIST)
        /// `ENOSPC`: no space left on the device.
        public static let noSpace = Errno(rawValue: ENOSPC)
        /// `EDQUOT`: the disk quota is exhausted.
        package static let quotaExceeded = Errno(rawValue: EDQUOT)
        /// `EACCES`: permission denied.
        public static let permissionDenied = Errno(rawValue: EACCES)
        /// `EPERM`: the operation is not permitted.
        package static let notPermitted = Errno(rawValue: EPERM)
        /// `EIO`: an input/output error of the device.
        public static let ioError = Errno(rawValue: EIO)
        /// `EROFS`: the file system is read-only.
        package static let readOnlyFileSystem = Errno(rawValue: EROFS)
        /// `ENOTDIR`: a component of the path is not a folder.
        package static let notDirectory = Errno(rawValue: ENOTDIR)
        /// `EISDIR`: the path is a folder.
        package static let isDirectory = Errno(rawValue: EISDIR)
        /// `ELOOP`: a symbolic link where none is followed.
        package static let tooManySymbolicLinks = Errno(rawValue: ELOOP)
        /// `EINVAL`: an argument the kernel does not accept.
        public static let invalidArgument = Errno(rawValue: EINVAL)
        /// `EAGAIN`: a resource is temporarily exhausted.
        package static let resourceUnavailable = Errno(rawValue: EAGAIN)
        /// `EFBIG`: the file is larger than allowed.
        package static let fileTooLarge = Errno(rawValue: EFBIG)
        /// `ENOMEM`: out of memory.
        package static let noMemory = Errno(rawValue: ENOMEM)

        /// The kernel's words for this error (`strerror`), for example "No space left on device".
        package var message: String { String(cString: strerror(rawValue)) }

        /// The symbolic name, for example `ENOSPC`.
        public var description: String { AsyncIOError.errnoName(rawValue) }
    }
}

extension AsyncIOError {
    /// The kernel's error number as a typed value, when the kernel reported one.
    package var code: Errno? { errno }

    /// Whether this error means the device ran out of space (`ENOSPC` or `EDQUOT`).
    package var isOutOfSpace: Bool { code == .noSpace || code == .quotaExceeded }

    /// The kernel's words for the error (`strerror`), or the message when there is no errno.
    package var reason: String { code?.message ?? message ?? operation }

    /// The kernel's words and the number: `Permission denied (errno 13)`.
    package var reasonWithNumber: String { "\(reason) (errno \(errno?.rawValue ?? 0))" }
}
