import Glibc
import Testing
@testable import AsyncIO

@Suite("Physical layout of buffers")
struct PhysicalLayoutTests {
    @Test("a locked buffer's pages are all present and form between one run and one run per page",
          .enabled(if: geteuid() == 0, "frame numbers in /proc/self/pagemap are zeros without CAP_SYS_ADMIN"))
    func layoutOfLockedBuffer() throws {
        let buffer = try AlignedBuffer(count: 3 << 20, lock: true, hugePages: false)
        let layout = try #require(buffer.physicalLayout)
        #expect(layout.pages == (3 << 20) / AlignedBuffer.pageSize)
        #expect(layout.runs >= 1 && layout.runs <= layout.pages)
        #expect(layout.averageRunBytes == layout.pages * AlignedBuffer.pageSize / layout.runs)
    }

    @Test("a huge page is one physically contiguous run",
          .enabled(if: geteuid() == 0, "frame numbers in /proc/self/pagemap are zeros without CAP_SYS_ADMIN"),
          .enabled(if: ["always", "madvise"].contains(AlignedBuffer.transparentHugePageMode ?? ""),
                   "transparent huge pages are off"))
    func hugePageIsOneRun() throws {
        let buffer = try AlignedBuffer(count: 2 << 20, lock: true, hugePages: true)
        // The kernel may refuse a huge page (no free 2 MiB block); then there is nothing to check.
        try #require(buffer.hugePageBytes == 2 << 20, "the kernel gave no huge page this time")
        #expect(buffer.physicalLayout == PhysicalLayout(pages: 512, runs: 1))
    }
}
