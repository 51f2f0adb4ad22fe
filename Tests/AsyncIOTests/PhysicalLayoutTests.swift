import Glibc
import Testing
@testable import AsyncIO

@Suite("Physical layout of buffers")
struct PhysicalLayoutTests {
    /// Whether `scripts/sanitize.sh` runs the suite (thread or address).
    static let underSanitizer = getenv("AIO_SANITIZER") != nil
    static let sanitizerReason: Comment =
        "the sanitizers make mlock a no-op, so a locked buffer's pages are not faulted in and have no frames"
    @Test("a locked buffer's pages are all present and form between one run and one run per page",
          .enabled(if: geteuid() == 0, "frame numbers in /proc/self/pagemap are zeros without CAP_SYS_ADMIN"),
          .disabled(if: PhysicalLayoutTests.underSanitizer, PhysicalLayoutTests.sanitizerReason))
    func layoutOfLockedBuffer() throws {
        let buffer = try AlignedBuffer(count: 3 << 20, lock: true, hugePages: false)
        let layout = try #require(buffer.physicalLayout)
        #expect(layout.pages == (3 << 20) / AlignedBuffer.pageSize)
        #expect(layout.runs >= 1 && layout.runs <= layout.pages)
        #expect(layout.averageRunBytes == layout.pages * AlignedBuffer.pageSize / layout.runs)
    }

    @Test("a 2 MiB buffer is 512 pages, in one run when the kernel gave it a huge page",
          .enabled(if: geteuid() == 0, "frame numbers in /proc/self/pagemap are zeros without CAP_SYS_ADMIN"),
          .disabled(if: PhysicalLayoutTests.underSanitizer, PhysicalLayoutTests.sanitizerReason),
          .enabled(if: ["always", "madvise"].contains(AlignedBuffer.transparentHugePageMode ?? ""),
                   "transparent huge pages are off"))
    func hugePageIsOneRun() throws {
        let buffer = try AlignedBuffer(count: 2 << 20, lock: true, hugePages: true)
        let layout = try #require(buffer.physicalLayout)
        #expect(layout.pages == 512)
        // The kernel may give 4 KiB pages instead (no free 2 MiB block); a huge page it gave is one run.
        if buffer.hugePageBytes == 2 << 20 { #expect(layout.runs == 1) }
    }
}
