/// A block size of a sweep: its bytes and the text it was written as.
package struct SweepBlockSize: Hashable, Sendable, Codable {
    /// Bytes per request.
    package var bytes: Int
    /// The text for log names (`1M`, `128K`, `1048576`).
    package var text: String

    /// Parses a block size the way `ByteSize.parse` does and keeps the text for log names.
    ///
    /// - Throws: `BenchError.usage` naming the value.
    package init(_ text: String, name: String = "block_size") throws(BenchError) {
        let trimmed = text.trimmingWhitespace()
        bytes = try ByteSize.parse(trimmed, name: name)
        self.text = SweepConfiguration(blockSize: bytes, blockSizeText: trimmed).blockSizeText
    }

    /// A block size given in bytes; its text is the number of bytes (`1048576`), as DeepSpeed names it.
    init(bytes: Int) {
        self.bytes = bytes
        self.text = SweepConfiguration(blockSize: bytes, blockSizeText: String(bytes)).blockSizeText
    }
}

extension SweepBlockSize {
    init(text: String, bytes: Int) {
        self.bytes = bytes
        self.text = text
    }
}
