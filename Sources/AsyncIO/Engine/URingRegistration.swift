import CAsyncIO
import Glibc

/// Registration of buffers and files with an io_uring ring: requests into registered memory use
/// `READ_FIXED` / `WRITE_FIXED`, so the kernel does not pin the pages for every request.
extension URingQueue {
    func registerFileTable() {
        var table: [Int32] = [-1, -1]
        let rc = table.withUnsafeMutableBufferPointer {
            CAsyncIO_io_uring_register(ringFD, UInt32(IORING_REGISTER_FILES), $0.baseAddress, 2)
        }
        if rc < 0 {
            fileRegistrationFailed = AsyncIOError.errnoName(currentErrno())
        } else {
            filesRegistered = true
        }
    }

    func prepare(memory: UnsafeMutableRawBufferPointer, region: UnsafeMutableRawBufferPointer?, fds: [Int32]) {
        guard options.registerResources else { return }
        // Always refresh the table: descriptor numbers are reused after a file is closed, and
        // the registered table would still point at the old file.
        if filesRegistered, fds.count >= 2 {
            var update = io_uring_files_update()
            var values: [Int32] = [fds[0], fds[1] == fds[0] ? -1 : fds[1]]
            let rc = values.withUnsafeMutableBufferPointer { buf -> Int32 in
                update.offset = 0
                update.fds = UInt64(UInt(bitPattern: buf.baseAddress))
                return CAsyncIO_io_uring_register(ringFD, UInt32(IORING_REGISTER_FILES_UPDATE), &update, 2)
            }
            fixedFDs = rc >= 0 ? (fds[0], fds[1]) : (-1, -1)
        }
        let freed = AlignedBuffer.freedCount.load(ordering: .sequentiallyConsistent)
        if memory.count == 0, buffersRegistered, registeredAtFreedCount != freed {
            // Nothing to register (caller memory, see `SliceRunner.start`), but a buffer was freed
            // since the table was made: drop it, so no request of this memory, which may now lie
            // where a freed buffer was, goes to the old pages.
            _ = CAsyncIO_io_uring_register(ringFD, UInt32(IORING_UNREGISTER_BUFFERS), nil, 0)
            buffersRegistered = false
            registeredBuffers = []
            registeredRegions = []
        }
        guard bufferRegistrationFailed == nil, let base = memory.baseAddress, memory.count > 0 else { return }
        let start = UInt(bitPattern: base)
        let end = start + UInt(memory.count)
        let current = buffersRegistered && registeredAtFreedCount == freed
        if current, registeredRegions.contains(where: { start >= $0.start && end <= $0.end }) { return }
        // The whole allocation when there is one (the parts of a ring of bounce buffers then share one
        // registration); if the kernel refuses it (the memlock limit counts every ring's registration),
        // the slice's memory alone, as without one, and the whole is not tried again for its other parts.
        var wanted = (start, end)
        if let r = region, let b = r.baseAddress, UInt(bitPattern: b) <= start, end <= UInt(bitPattern: b) + UInt(r.count) {
            let whole = (UInt(bitPattern: b), UInt(bitPattern: b) + UInt(r.count))
            let refused = refusedWhole.map { $0.start == whole.0 && $0.end == whole.1 && $0.freedCount == freed }
            if refused != true { wanted = whole }
        }
        // Keep the regions registered before (a stream alternates between its bounce buffers), up to
        // `maxRegions`, unless a buffer was freed since: then only the new one.
        var regions = current ? registeredRegions : []
        regions.append(wanted)
        if regions.count > URingQueue.maxRegions { regions.removeFirst(regions.count - URingQueue.maxRegions) }
        if buffersRegistered {
            _ = CAsyncIO_io_uring_register(ringFD, UInt32(IORING_UNREGISTER_BUFFERS), nil, 0)
            buffersRegistered = false
            registeredBuffers = []
            registeredRegions = []
        }
        var code = register(regions)
        if code != nil, regions.count > 1 {
            regions = [wanted]
            code = register(regions)
        }
        if code != nil, wanted != (start, end) {
            refusedWhole = (wanted.0, wanted.1, freed)
            code = register([(start, end)])
        }
        if let code {
            bufferRegistrationFailed = "\(AsyncIOError.errnoName(code)), memlock limit \(AlignedBuffer.memlockLimitDescription)"
        } else {
            registeredAtFreedCount = freed
        }
    }

    /// Registers `regions` as the ring's buffer table; nil on success, else the errno.
    private func register(_ regions: [(start: UInt, end: UInt)]) -> Int32? {
        // The kernel takes at most 1 GiB per registered buffer: split larger memory.
        let piece: UInt = 1 << 30
        var vecs: [iovec] = []
        var ranges: [(start: UInt, end: UInt)] = []
        for region in regions {
            var at = region.start
            while at < region.end {
                let n = min(piece, region.end - at)
                vecs.append(iovec(iov_base: UnsafeMutableRawPointer(bitPattern: at), iov_len: Int(n)))
                ranges.append((at, at + n))
                at += n
            }
        }
        let rc = vecs.withUnsafeBufferPointer {
            CAsyncIO_io_uring_register(ringFD, UInt32(IORING_REGISTER_BUFFERS), $0.baseAddress, UInt32($0.count))
        }
        if rc < 0 { return currentErrno() }
        buffersRegistered = true
        registeredBuffers = ranges
        registeredRegions = regions
        return nil
    }

    /// Drops the buffer registration; for tests of the fallback path.
    func forgetRegistration(reason: String) {
        if buffersRegistered {
            _ = CAsyncIO_io_uring_register(ringFD, UInt32(IORING_UNREGISTER_BUFFERS), nil, 0)
        }
        buffersRegistered = false
        registeredBuffers = []
        registeredRegions = []
        bufferRegistrationFailed = reason
    }
}
