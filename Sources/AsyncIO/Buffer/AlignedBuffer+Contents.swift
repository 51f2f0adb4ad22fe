import Glibc

/// Filling a buffer with seeded data and comparing buffers: what the benchmark and the tests check
/// round trips with.
extension AlignedBuffer {
    /// Fills the buffer with seeded pseudo-random bytes, fast: the first 64 KiB come from a xorshift
    /// generator, every later 64 KiB block is that block XOR a per-block key (SplitMix64 of the seed
    /// and the block number), a loop the compiler vectorises. No two blocks are equal, so a request
    /// that lands in the wrong place is caught by a comparison; 1 GiB fills at memory speed.
    ///
    /// - Precondition: no operation in flight uses the buffer (`isLent` is false).
    package func fillRandom(seed: UInt64) {
        refuseMutationWhileLent("fillRandom")
        let words = allocated / 8
        let p = base.bindMemory(to: UInt64.self, capacity: words)
        let blockWords = min(words, 8192)
        var state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed
        for i in 0..<blockWords {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            p[i] = state
        }
        var start = blockWords
        var block: UInt64 = 1
        while start < words {
            let key = SplitMix64.mix(seed &+ block &* 0x9E37_79B9_7F4A_7C15)
            let n = min(blockWords, words - start)
            let destination = p + start
            for i in 0..<n { destination[i] = p[i] ^ key }
            start += n
            block += 1
        }
    }

    /// Whether the `length` bytes of this buffer from `offset` equal the first `length` of `other`.
    ///
    /// - Precondition: no read in flight fills either buffer.
    package func contentsEqual(from offset: Int, to other: AlignedBuffer, length: Int) -> Bool {
        refuseReadWhileFilling("contentsEqual")
        other.refuseReadWhileFilling("contentsEqual")
        guard offset >= 0, length >= 0, offset <= count - length, length <= other.count else { return false }
        return memcmp(base + offset, other.base, length) == 0
    }

    /// Whether the first `length` bytes equal those of `other`.
    ///
    /// - Precondition: no read in flight fills either buffer.
    package func contentsEqual(_ other: AlignedBuffer, length: Int? = nil) -> Bool {
        refuseReadWhileFilling("contentsEqual")
        other.refuseReadWhileFilling("contentsEqual")
        let n = length ?? count
        guard n <= count, n <= other.count else { return false }
        return memcmp(base, other.base, n) == 0
    }
}
