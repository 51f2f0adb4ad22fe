import Foundation
import Testing

@testable import AIOBench

@Suite("PCIe link arithmetic")
struct DeviceLinkTests {
    static let generations: [(speed: String, gigatransfers: Double)] = [
        ("8.0 GT/s PCIe", 8), ("16.0 GT/s PCIe", 16), ("32.0 GT/s PCIe", 32),
    ]

    @Test("Gen3 to Gen5 use 128b/130b", arguments: [0, 1, 2], [1, 2, 4, 8, 16])
    func modernGenerations(generation: Int, width: Int) throws {
        let (speed, rate) = Self.generations[generation]
        let expected = rate * 1e9 * 128 / 130 / 8 * Double(width)
        let got = try #require(PCIeLink.theoreticalBytesPerSecond(speed: speed, width: width))
        #expect(abs(got - expected) < 1)
    }

    @Test func knownFigures() throws {
        // The figures the PCI-SIG tables quote, to the MB/s.
        let gen3x4 = try #require(PCIeLink.theoreticalBytesPerSecond(speed: "8.0 GT/s PCIe", width: 4))
        #expect(Int(gen3x4 / 1e6) == 3938)
        let gen4x4 = try #require(PCIeLink.theoreticalBytesPerSecond(speed: "16.0 GT/s PCIe", width: 4))
        #expect(Int(gen4x4 / 1e6) == 7876)
        let gen5x16 = try #require(PCIeLink.theoreticalBytesPerSecond(speed: "32.0 GT/s PCIe", width: 16))
        #expect(Int(gen5x16 / 1e6) == 63015)
        let gen3x1 = try #require(PCIeLink.theoreticalBytesPerSecond(speed: "8 GT/s", width: 1))
        #expect(Int(gen3x1 / 1e6) == 984)
    }

    @Test func oldAndNewEncodings() throws {
        #expect(PCIeLink.theoreticalBytesPerSecond(speed: "2.5 GT/s", width: 1) == 250_000_000)
        #expect(PCIeLink.theoreticalBytesPerSecond(speed: "5.0 GT/s PCIe", width: 4) == 2_000_000_000)
        #expect(PCIeLink.theoreticalBytesPerSecond(speed: "5 GT/s", width: 1) == 500_000_000)
        let gen6 = try #require(PCIeLink.theoreticalBytesPerSecond(speed: "64.0 GT/s PCIe", width: 1))
        #expect(abs(gen6 - 64e9 * 242 / 256 / 8) < 1)
        #expect(PCIeLink.encoding(gigatransfers: 64).name == "FLIT 242/256")
        #expect(PCIeLink.generation(gigatransfers: 16) == 4)
        #expect(PCIeLink.generation(gigatransfers: 7) == nil)
    }

    @Test func unparsableSpeedsAndWidths() {
        #expect(PCIeLink.theoreticalBytesPerSecond(speed: "Unknown", width: 4) == nil)
        #expect(PCIeLink.theoreticalBytesPerSecond(speed: "Unknown speed", width: 4) == nil)
        #expect(PCIeLink.theoreticalBytesPerSecond(speed: "", width: 4) == nil)
        #expect(PCIeLink.theoreticalBytesPerSecond(speed: "-8 GT/s", width: 4) == nil)
        #expect(PCIeLink.theoreticalBytesPerSecond(speed: "8.0 GT/s PCIe", width: 0) == nil)
        let link = PCIeLink(address: "0000:01:00.0", currentSpeed: "Unknown", currentWidth: nil,
                            maxSpeed: nil, maxWidth: nil)
        #expect(link.theoreticalBytesPerSecond == nil)
        #expect(link.suspect(bytesPerSecond: 1e12) == nil)
        #expect(link.ceiling.contains("no ceiling"))
    }

    @Test func suspectFiresAboveTheLimitOnly() throws {
        let link = PCIeLink(address: "0000:01:00.0", currentSpeed: "8.0 GT/s PCIe", currentWidth: 4,
                            maxSpeed: "8.0 GT/s PCIe", maxWidth: 4)
        let limit = try #require(link.theoreticalBytesPerSecond)
        #expect(link.suspect(bytesPerSecond: limit * 0.9) == nil)
        #expect(link.suspect(bytesPerSecond: limit) == nil)
        let warning = try #require(link.suspect(bytesPerSecond: limit * 1.5))
        #expect(warning.contains("page cache"))
        #expect(warning.contains("sparse"))
        #expect(link.ceiling.contains("Gen3") && link.ceiling.contains("128b/130b") && link.ceiling.contains("x4"))

        var device = StorageDevice(folder: "/data")
        device.ceilingBytesPerSecond = limit
        device.pcie = link
        #expect(device.suspect(bytesPerSecond: limit / 2) == nil)
        #expect(device.suspect(bytesPerSecond: limit * 2) != nil)
        #expect(device.suspect(bytesPerSecond: .infinity) == nil)
        #expect(StorageDevice(folder: "/x").suspect(bytesPerSecond: 1e15) == nil)
    }
}

@Suite("StorageDevice on this machine")
struct StorageDeviceLiveTests {
    @Test func rootFolder() {
        let device = StorageDevice.inspect(folder: "/")
        print(device.summary.joined(separator: "\n"))
        #expect(device.problem == nil)
        #expect(device.mountPoint == "/")
        #expect(device.filesystem != nil)
        if let source = device.mountSource, source.hasPrefix("/dev/") {
            #expect(device.blockDevice != nil)
            #expect(device.logicalBlockSize.map { $0 >= 512 } == true)
            #expect(device.summary.contains { $0.contains(device.blockDevice ?? "?") })
        }
        #expect(device.summary.contains { $0.hasPrefix("ceiling: ") })
    }

    /// The first of /dev/shm, /tmp and /run that is on tmpfs here.
    static let tmpfsCandidate = ["/dev/shm", "/tmp", "/run"].first {
        StorageDevice.inspect(folder: $0).filesystem == "tmpfs"
    }

    @Test(.enabled(if: tmpfsCandidate != nil, "none of /dev/shm, /tmp and /run is on tmpfs here"))
    func tmpfsFolder() throws {
        let folder = try #require(Self.tmpfsCandidate)
        let device = StorageDevice.inspect(folder: folder)
        print(device.summary.joined(separator: "\n"))
        #expect(device.problem == nil)
        #expect(device.blockDevice == nil)
        #expect(device.ceilingBytesPerSecond == nil)
        #expect(device.ceiling.hasPrefix("none"))
        #expect(device.notes.contains { $0.contains("memory") })
        #expect(device.summary.contains { $0.contains("tmpfs") })
    }

    @Test func missingFolder() {
        let device = StorageDevice.inspect(folder: "/nonexistent/aio-bench/\(UUID().uuidString)")
        #expect(device.problem?.contains("No such file") == true)
        #expect(device.blockDevice == nil)
        #expect(device.summary.count >= 2)
        #expect(device.ceiling.hasPrefix("unknown"))
    }

    @Test func fileInsteadOfFolderAndHostileName() throws {
        let dir = try FakeTree()
        let file = dir.path + "/we<ird> & 'name'"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let device = StorageDevice.inspect(folder: file)
        #expect(device.problem == nil)
        #expect(device.folder == file)
    }

    @Test(.enabled(if: LoopDevice.usable, "needs root, losetup and /dev/loop-control"))
    func loopDevice() throws {
        try LoopDevice.withAttachedImage { work, image, loop in
            // Without a filesystem: inspect through the loop device's number.
            let name = (loop as NSString).lastPathComponent
            var info = stat()
            #expect(stat(loop, &info) == 0)
            let numbers = SysFS.split(UInt64(info.st_rdev))
            let raw = StorageDevice.inspect(folder: work, sysfs: "/sys", mountInfo: "/proc/self/mountinfo",
                                            deviceNumber: numbers)
            print(raw.summary.joined(separator: "\n"))
            #expect(raw.blockDevice == name)
            #expect(raw.bus == "loop")
            #expect(raw.backingFile == image)
            #expect(raw.layers.first == name)
            #expect(raw.layers.contains("file \(image)"))
        }
    }

    @Test(.enabled(if: LoopDevice.mountable, "needs root, losetup, /dev/loop-control, mkfs.ext4 and mount rights"))
    func loopDeviceMounted() throws {
        try LoopDevice.withAttachedImage { work, image, loop in
            // With a filesystem, through a real folder.
            let name = (loop as NSString).lastPathComponent
            try #require(LoopDevice.run(LoopDevice.mkfs, ["-q", "-F", loop]) != nil, "mkfs.ext4 \(loop) failed")
            let mountPoint = work + "/mnt"
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
            try #require(LoopDevice.run("/usr/bin/mount", [loop, mountPoint]) != nil, "mount \(loop) failed")
            defer { _ = LoopDevice.run("/usr/bin/umount", [mountPoint]) }
            let mounted = StorageDevice.inspect(folder: mountPoint)
            print(mounted.summary.joined(separator: "\n"))
            #expect(mounted.filesystem == "ext4")
            #expect(mounted.mountPoint == mountPoint)
            #expect(mounted.blockDevice == name)
            #expect(mounted.backingFile == image)
            #expect(mounted.summary.contains { $0.contains("backing file: \(image)") })
        }
    }
}

@Suite("StorageDevice on a fake sysfs")
struct StorageDeviceFakeTests {
    /// An NVMe disk behind a Gen4 x4 root port whose own link trained at Gen3 x4, a partition on it,
    /// a device-mapper device over the partition, and a virtio disk with an emulated link.
    static func makeTree() throws -> FakeTree {
        let tree = try FakeTree()
        let port = "devices/pci0000:00/0000:00:01.1"
        let endpoint = "\(port)/0000:01:00.0"
        let controller = "\(endpoint)/nvme/nvme0"
        let disk = "\(controller)/nvme0n1"
        try tree.write(port + "/current_link_speed", "16.0 GT/s PCIe")
        try tree.write(port + "/current_link_width", "4")
        try tree.write(endpoint + "/current_link_speed", "8.0 GT/s PCIe")
        try tree.write(endpoint + "/current_link_width", "4")
        try tree.write(endpoint + "/max_link_speed", "16.0 GT/s PCIe")
        try tree.write(endpoint + "/max_link_width", "4")
        try tree.write(controller + "/model", "Samsung SSD 980 PRO 1TB                 ")
        try tree.write(controller + "/firmware_rev", "5B2QGXA7\n")
        try tree.write(disk + "/queue/logical_block_size", "512")
        try tree.write(disk + "/queue/rotational", "0")
        try tree.write(disk + "/queue/scheduler", "[none] mq-deadline kyber")
        try tree.link(disk + "/device", "../../nvme0")
        try tree.write(disk + "/nvme0n1p2/partition", "2")
        try tree.link("dev/block/259:2", "../../" + disk + "/nvme0n1p2")

        let dm = "devices/virtual/block/dm-0"
        try tree.write(dm + "/dm/name", "vg-data")
        try tree.write(dm + "/queue/logical_block_size", "4096")
        try tree.write(dm + "/queue/rotational", "0")
        try tree.write(dm + "/queue/scheduler", "none")
        try tree.link(dm + "/slaves/nvme0n1p2", "../../../../../" + disk + "/nvme0n1p2")
        try tree.link("dev/block/253:0", "../../" + dm)

        let virtio = "devices/pci0000:00/0000:00:02.0"
        try tree.write(virtio + "/current_link_speed", "2.5 GT/s PCIe")
        try tree.write(virtio + "/current_link_width", "1")
        try tree.write(virtio + "/virtio1/block/vda/queue/logical_block_size", "512")
        try tree.write(virtio + "/virtio1/block/vda/queue/rotational", "1")
        try tree.write(virtio + "/virtio1/block/vda/queue/scheduler", "none [mq-deadline] kyber bfq")
        try tree.link(virtio + "/virtio1/block/vda/device", "../../../virtio1")
        try tree.link("dev/block/254:0", "../../" + virtio + "/virtio1/block/vda")

        try tree.write("mountinfo", """
            27 1 259:2 / / rw,relatime - ext4 /dev/nvme0n1p2 rw
            28 27 253:0 / /data\\040set rw,relatime - xfs /dev/mapper/vg-data rw
            29 27 254:0 / /vm rw,relatime - ext4 /dev/vda rw
            30 27 0:23 / /dev/shm rw - tmpfs tmpfs rw
            31 27 0:40 / /ovl rw - overlay overlay rw,lowerdir=/l,upperdir=/var/up,workdir=/w

            garbage line
            """)
        return tree
    }

    static func inspect(_ tree: FakeTree, _ numbers: (Int, Int)) -> StorageDevice {
        StorageDevice.inspect(folder: tree.path, sysfs: tree.path, mountInfo: tree.path + "/mountinfo",
                              deviceNumber: numbers)
    }

    @Test func nvmePartitionWalksToControllerAndLink() throws {
        let tree = try Self.makeTree()
        let device = Self.inspect(tree, (259, 2))
        print(device.summary.joined(separator: "\n"))
        #expect(device.blockDevice == "nvme0n1p2")
        #expect(device.wholeDisk == "nvme0n1")
        #expect(device.controller == "nvme0")
        #expect(device.bus == "nvme")
        #expect(device.model == "Samsung SSD 980 PRO 1TB")
        #expect(device.firmware == "5B2QGXA7")
        #expect(device.logicalBlockSize == 512)
        #expect(device.rotational == false)
        #expect(device.scheduler == "none")
        #expect(device.filesystem == "ext4")
        #expect(device.mountSource == "/dev/nvme0n1p2")
        #expect(device.pciAddress == "0000:01:00.0")
        #expect(device.pcie?.currentSpeed == "8.0 GT/s PCIe")
        #expect(device.pcie?.maxWidth == 4)
        let gen3x4 = try #require(PCIeLink.theoreticalBytesPerSecond(speed: "8 GT/s", width: 4))
        #expect(device.ceilingBytesPerSecond == gen3x4)
        #expect(device.notes.contains { $0.contains("below its maximum") })
        #expect(device.layers == ["nvme0n1p2", "nvme0n1"])
        #expect(device.summary.contains { $0.contains("partition of nvme0n1") })
        #expect(device.suspect(bytesPerSecond: 5e9) != nil)
        #expect(device.suspect(bytesPerSecond: 3e9) == nil)
    }

    @Test func deviceMapperFollowsSlaves() throws {
        let tree = try Self.makeTree()
        let device = Self.inspect(tree, (253, 0))
        print(device.summary.joined(separator: "\n"))
        #expect(device.blockDevice == "dm-0")
        #expect(device.bus == "device-mapper")
        #expect(device.mapperName == "vg-data")
        #expect(device.layers == ["dm-0 (vg-data)", "nvme0n1p2", "nvme0n1"])
        #expect(device.logicalBlockSize == 4096)
        #expect(device.model == "Samsung SSD 980 PRO 1TB")
        #expect(device.controller == "nvme0")
        #expect(device.ceilingBytesPerSecond != nil)
        #expect(device.summary.contains { $0.contains("dm-0 (vg-data) → nvme0n1p2 → nvme0n1") })
    }

    @Test func virtioLinkIsReportedButNotACeiling() throws {
        let tree = try Self.makeTree()
        let device = Self.inspect(tree, (254, 0))
        print(device.summary.joined(separator: "\n"))
        #expect(device.blockDevice == "vda")
        #expect(device.bus == "virtio")
        #expect(device.model == nil)
        #expect(device.rotational == true)
        #expect(device.scheduler == "mq-deadline")
        #expect(device.pcie?.address == "0000:00:02.0")
        #expect(device.ceilingBytesPerSecond == nil)
        #expect(device.notes.contains { $0.contains("emulated") })
    }

    @Test func unknownDeviceNumberAndMountinfoEscapes() throws {
        let tree = try Self.makeTree()
        let device = Self.inspect(tree, (8, 99))
        #expect(device.blockDevice == nil)
        #expect(device.notes.contains { $0.contains("8:99") })
        let mounts = MountEntry.parse(try String(contentsOfFile: tree.path + "/mountinfo", encoding: .utf8))
        #expect(mounts.count == 5)
        #expect(mounts.contains { $0.mountPoint == "/data set" })
        let best = MountEntry.best(for: "/data set/x", major: 253, minor: 0, in: mounts)
        #expect(best?.fsType == "xfs")
        let overlay = try #require(mounts.first { $0.fsType == "overlay" })
        #expect(MountEntry.remark(for: overlay).contains("/var/up"))
        #expect(SysFS.activeScheduler("none [mq-deadline] kyber bfq") == "mq-deadline")
        #expect(SysFS.isPCIAddress("0000:00:02.0"))
        #expect(!SysFS.isPCIAddress("pci0000:00"))
    }
}

/// A temporary folder removed when the value is dropped.
final class FakeTree: Sendable {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path + "/aio-device-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ relative: String, _ text: String) throws {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
    }

    func link(_ relative: String, _ target: String) throws {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: target)
    }
}
