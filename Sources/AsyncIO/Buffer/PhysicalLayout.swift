import Glibc

/// How the pages behind a buffer sit in physical memory.
///
/// A direct request is handed to the device as a list of physically contiguous segments, and the
/// block layer merges neighbouring requests only while the merged one stays within the device's
/// segment limit (`max_segments`, 254 on a virtio disk). Over 4 KiB pages, how contiguous the pages
/// happen to be decides how large the merged requests get, and so the speed: a fresh process on a
/// machine whose free memory is fragmented gets scattered pages; a process that already holds
/// gigabytes (a training job, or torch in DeepSpeed's `ds_io`) gets longer runs. Huge pages are
/// always 2 MiB runs.
package struct PhysicalLayout: Sendable, Equatable {
    /// Pages of the buffer (4 KiB each) that are in memory.
    package var pages: Int
    /// Runs of physically consecutive pages (ascending frame numbers) those pages form.
    package var runs: Int

    /// Average bytes per physically contiguous run.
    package var averageRunBytes: Int { runs == 0 ? 0 : pages * AlignedBuffer.pageSize / runs }
}

extension AlignedBuffer {
    /// The buffer's physical layout from `/proc/self/pagemap`, or nil where the kernel hides frame
    /// numbers (processes without `CAP_SYS_ADMIN` read zeros) or the map cannot be read.
    package var physicalLayout: PhysicalLayout? {
        let page = AlignedBuffer.pageSize
        let count = allocated / page
        guard count > 0 else { return nil }
        let fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var entries = [UInt64](repeating: 0, count: count)
        let want = count * 8
        let got = entries.withUnsafeMutableBytes { bytes -> Int in
            var done = 0
            let start = off_t(UInt(bitPattern: base) / UInt(page) * 8)
            while done < want {
                let n = pread(fd, bytes.baseAddress! + done, want - done, start + off_t(done))
                if n < 0, errno == EINTR { continue }
                if n <= 0 { break }
                done += n
            }
            return done
        }
        guard got == want else { return nil }
        let present: UInt64 = 1 << 63
        let frameMask: UInt64 = (1 << 55) - 1
        var pages = 0
        var runs = 0
        var previous: UInt64 = 0
        var sawFrame = false
        for entry in entries where entry & present != 0 {
            let frame = entry & frameMask
            if frame != 0 { sawFrame = true }
            if pages == 0 || frame != previous &+ 1 { runs += 1 }
            previous = frame
            pages += 1
        }
        return sawFrame ? PhysicalLayout(pages: pages, runs: runs) : nil
    }
}
