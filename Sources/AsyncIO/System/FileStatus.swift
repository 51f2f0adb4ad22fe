import Glibc

/// What `stat` says of a path: its kind, size, permission bits and the devices involved.
package struct FileStatus: Sendable, Equatable {
    /// The kind of file system object.
    package enum Kind: Sendable, Equatable {
        /// A regular file.
        case regular
        /// A folder.
        case directory
        /// A symbolic link (only seen when links are not followed).
        case symbolicLink
        /// A block device such as `/dev/nvme0n1`.
        case blockDevice
        /// A character device such as `/dev/null`.
        case characterDevice
        /// A named pipe.
        case fifo
        /// A socket.
        case socket
    }

    /// The kind of object.
    package var kind: Kind
    /// Size in bytes.
    package var size: Int64
    /// Permission bits (`st_mode & 07777`).
    package var permissions: UInt32
    /// The device the object lives on (`st_dev`).
    package var device: UInt64
    /// For a block or character device, the device it stands for (`st_rdev`); 0 otherwise.
    package var representedDevice: UInt64

    init(_ st: stat) {
        switch st.st_mode & S_IFMT {
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symbolicLink
        case S_IFBLK: kind = .blockDevice
        case S_IFCHR: kind = .characterDevice
        case S_IFIFO: kind = .fifo
        case S_IFSOCK: kind = .socket
        default: kind = .regular
        }
        size = Int64(st.st_size)
        permissions = UInt32(st.st_mode & 0o7777)
        device = UInt64(st.st_dev)
        representedDevice = UInt64(st.st_rdev)
    }
}

/// What `statvfs` and `statfs` say of the file system holding a path.
package struct FileSystemStats: Sendable, Equatable {
    /// Bytes in the file system.
    package var totalBytes: Int64
    /// Bytes an unprivileged user may still write.
    package var availableBytes: Int64
    /// The file system's magic number (`statfs` `f_type`).
    package var typeMagic: Int64

    /// Whether the file system keeps its files in memory (tmpfs or ramfs): a measurement there
    /// measures memory, not storage.
    package var isMemoryBacked: Bool {
        typeMagic == 0x0102_1994 /* TMPFS_MAGIC */ || typeMagic == 0x8584_58f6 /* RAMFS_MAGIC */
    }
}

/// The kinds of access `FileSystem.isAccessible` checks.
package struct FileAccessMode: OptionSet, Sendable {
    /// Raw `access` mode bits.
    package let rawValue: Int32
    /// Creates a mode from raw bits.
    package init(rawValue: Int32) { self.rawValue = rawValue }
    /// The path exists.
    package static let exists = FileAccessMode([])
    /// The path can be read.
    package static let read = FileAccessMode(rawValue: R_OK)
    /// The path can be written.
    package static let write = FileAccessMode(rawValue: W_OK)
    /// The file can be executed, or the folder entered.
    package static let execute = FileAccessMode(rawValue: X_OK)
}
