/// What one finished read or write moved, file by file, and how long it took: a plain handle's
/// operation has one member (its file), a striped handle's one per member file.
public struct IOTransfer: Sendable, Equatable {
    /// One member file's share.
    public struct Member: Sendable, Equatable {
        /// The member file.
        public var path: String
        /// Bytes moved to or from it.
        public var bytes: Int
        /// Seconds from the start of the operation until this member's last request completed
        /// (0 for a member with nothing to move).
        public var seconds: Double

        /// This member's speed in GiB/s (bytes / seconds / 1024³); 0 when it moved nothing.
        public var gibPerSecond: Double { seconds > 0 ? Double(bytes) / seconds / 1_073_741_824 : 0 }
    }

    /// Read or write.
    package var operation: IOOperation
    /// Bytes moved in all.
    public var bytes: Int
    /// Seconds from the start of the operation (after its files were opened) until its last request
    /// completed.
    public var seconds: Double
    /// Each member's share, in member order.
    public var members: [Member]
}
