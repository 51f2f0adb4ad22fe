import CAsyncIO
import Glibc

extension AlignedBuffer {
    /// Maps `bytes` (a multiple of the page size) as pieces of `run` bytes of huge pages (`PageKind.runs`):
    /// faults in huge pages, then moves their pieces (`mremap`) into one new range, dealt in a stride
    /// so that no two pieces next to each other there were next to each other before. A piece within
    /// one huge page stays physically contiguous (one that crosses two, or where the kernel gave 4 KiB
    /// pages, may not); the buffer is then as fragmented as a process whose 4 KiB pages came in runs
    /// of `run` bytes. Every piece is a mapping of its own (about 29,000 per GiB of 36 KiB pieces,
    /// within the default `vm.max_map_count` of 65,530 for 2 GiB).
    ///
    /// - Throws: `AsyncIOError` when a mapping fails (`ENOMEM` past `vm.max_map_count`); nothing stays mapped.
    static func mapInRuns(_ bytes: Int, run: Int) throws(AsyncIOError) -> UnsafeMutableRawPointer {
        let page = pageSize, huge = 2 << 20
        guard run > 0, run % page == 0, bytes % page == 0 else {
            throw .invalid("allocate buffer", "pieces of \(run) bytes do not divide a \(bytes)-byte buffer into pages")
        }
        let sourceBytes = (bytes + huge - 1) / huge * huge
        let source = try map(sourceBytes, alignment: huge)
        defer { munmap(source, sourceBytes) }  // what was not moved (the pieces moved leave holes)
        _ = madvise(source, sourceBytes, CAsyncIO_MADV_HUGEPAGE)
        if madvise(source, sourceBytes, CAsyncIO_MADV_POPULATE_WRITE) != 0 { memset(source, 0, sourceBytes) }
        guard let target = mmap(nil, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              target != MAP_FAILED else {
            throw .system("mmap \(bytes)-byte buffer", errno: currentErrno())
        }
        let order = runOrder(pieces: bytes / run)
        for (index, from) in order.enumerated() {
            guard CAsyncIO_mremap_fixed(source + from * run, run, target + index * run) != MAP_FAILED else {
                let code = currentErrno()
                munmap(target, bytes)
                throw .system("mremap a \(run)-byte piece of a \(bytes)-byte buffer (vm.max_map_count)", errno: code)
            }
        }
        let tail = bytes - order.count * run
        if tail > 0, CAsyncIO_mremap_fixed(source + order.count * run, tail, target + order.count * run) == MAP_FAILED {
            let code = currentErrno()
            munmap(target, bytes)
            throw .system("mremap the tail of a \(bytes)-byte buffer", errno: code)
        }
        return target
    }

    /// Where each of `pieces` pieces comes from: piece `i` from `i * stride % pieces`, the stride the
    /// smallest odd number from 5 sharing no factor with `pieces` and not ±1 modulo it (so every piece is
    /// taken once, and two neighbours come from `stride` pieces apart, neither the next nor the previous;
    /// 3, 4 and 6 pieces can only avoid the next). Fewer than 3 pieces keep their order.
    static func runOrder(pieces: Int) -> [Int] {
        guard pieces >= 3 else { return Array(0..<pieces) }
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        // Some counts (3, 4, 6) have no such stride but -1: their neighbours then come in reverse order.
        // Among 5, 7, ..., 5 + 2 × pieces there is always one (a prime above `pieces`, for a start).
        let strides = Swift.stride(from: 5, through: 5 + 2 * pieces, by: 2).lazy
            .filter { gcd($0, pieces) == 1 && $0 % pieces != 1 }
        let stride = strides.first { $0 % pieces != pieces - 1 } ?? strides.first { _ in true }!
        return (0..<pieces).map { $0 * stride % pieces }
    }
}
