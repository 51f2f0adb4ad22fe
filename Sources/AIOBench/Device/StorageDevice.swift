import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A PCI Express link as sysfs reports it for one PCI function
/// (`current_link_speed`, `current_link_width`, `max_link_speed`, `max_link_width`).
///
/// The speed fields keep sysfs's own text (`"8.0 GT/s PCIe"`, `"2.5 GT/s"`, `"Unknown"`); the
/// arithmetic below turns them into the most a link can carry in one direction.
public struct PCIeLink: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The PCI address of the function whose link this is, e.g. `0000:01:00.0`.
    public var address: String
    /// `current_link_speed` as sysfs wrote it, or nil when the file is missing.
    public var currentSpeed: String?
    /// `current_link_width` (lanes), or nil when missing or 0 (link down).
    public var currentWidth: Int?
    /// `max_link_speed` as sysfs wrote it, or nil when the file is missing.
    public var maxSpeed: String?
    /// `max_link_width` (lanes), or nil when missing or 0.
    public var maxWidth: Int?

    /// Creates a link description from sysfs values.
    public init(address: String, currentSpeed: String?, currentWidth: Int?, maxSpeed: String?, maxWidth: Int?) {
        self.address = address
        self.currentSpeed = currentSpeed
        self.currentWidth = currentWidth
        self.maxSpeed = maxSpeed
        self.maxWidth = maxWidth
    }

    /// The transfer rate in GT/s in a sysfs speed string: `"8.0 GT/s PCIe"` → 8, `"2.5 GT/s"` → 2.5;
    /// nil for `"Unknown"` or anything without a positive number before `GT/s`.
    public static func gigatransfers(_ speed: String) -> Double? {
        guard let range = speed.range(of: "GT/s") else { return nil }
        let number = speed[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        guard let value = Double(number), value.isFinite, value > 0 else { return nil }
        return value
    }

    /// The PCIe generation of a transfer rate (2.5 → 1, 5 → 2, 8 → 3, 16 → 4, 32 → 5, 64 → 6, 128 → 7),
    /// or nil for a rate no generation uses.
    public static func generation(gigatransfers: Double) -> Int? {
        let rates: [(Double, Int)] = [(2.5, 1), (5, 2), (8, 3), (16, 4), (32, 5), (64, 6), (128, 7)]
        return rates.first { abs($0.0 - gigatransfers) < 0.01 }?.1
    }

    /// The share of the raw bit rate left for data and the name of the line code, by transfer rate:
    /// Gen1 and Gen2 (below 8 GT/s) use 8b/10b (0.8); Gen3 to Gen5 use 128b/130b; Gen6 and later
    /// (64 GT/s and up) are taken in FLIT mode, 242 useful bytes of every 256 (about 0.945).
    public static func encoding(gigatransfers: Double) -> (efficiency: Double, name: String) {
        if gigatransfers < 8 { return (8.0 / 10.0, "8b/10b") }
        if gigatransfers < 64 { return (128.0 / 130.0, "128b/130b") }
        return (242.0 / 256.0, "FLIT 242/256")
    }

    /// The most a link can carry in one direction, in bytes per second: the per-lane rate after line
    /// encoding (see `encoding(gigatransfers:)`) times `width`. Packet headers are not subtracted, so
    /// real transfers stay some 10–15 % below it. Nil for an unparsable speed or a width below 1.
    ///
    /// - Parameters:
    ///   - speed: sysfs text such as `"8.0 GT/s PCIe"`, `"16.0 GT/s PCIe"`, `"2.5 GT/s"`.
    ///   - width: the number of lanes.
    public static func theoreticalBytesPerSecond(speed: String, width: Int) -> Double? {
        guard width >= 1, let rate = gigatransfers(speed) else { return nil }
        return rate * 1e9 * encoding(gigatransfers: rate).efficiency / 8 * Double(width)
    }

    /// The limit of the link as it is trained now (current speed and width), in bytes per second.
    public var theoreticalBytesPerSecond: Double? {
        guard let speed = currentSpeed, let width = currentWidth else { return nil }
        return Self.theoreticalBytesPerSecond(speed: speed, width: width)
    }

    /// The limit the link could reach at its maximum speed and width, in bytes per second.
    public var maxTheoreticalBytesPerSecond: Double? {
        guard let speed = maxSpeed, let width = maxWidth else { return nil }
        return Self.theoreticalBytesPerSecond(speed: speed, width: width)
    }

    /// The link in words, e.g. `PCIe 0000:01:00.0: 8 GT/s (Gen3, 128b/130b) x4 of max 8 GT/s x4`.
    public var description: String {
        func side(_ speed: String?, _ width: Int?) -> String {
            let rate = speed.flatMap(Self.gigatransfers)
            var text = rate.map { Self.rateText($0) } ?? (speed ?? "speed unknown")
            if let rate {
                let gen = Self.generation(gigatransfers: rate).map { "Gen\($0), " } ?? ""
                text += " (\(gen)\(Self.encoding(gigatransfers: rate).name))"
            }
            return text + " x" + (width.map(String.init) ?? "?")
        }
        return "PCIe \(address): \(side(currentSpeed, currentWidth)) of max \(side(maxSpeed, maxWidth))"
    }

    /// The ceiling in words, e.g. `PCIe 8 GT/s x4 (Gen3, 128b/130b): 3.94 GB/s = 3.67 GiB/s per direction`.
    public var ceiling: String {
        guard let limit = theoreticalBytesPerSecond, let speed = currentSpeed, let width = currentWidth,
            let rate = Self.gigatransfers(speed)
        else {
            return "PCIe \(address): link speed or width unknown (\(currentSpeed ?? "no speed")"
                + " x\(currentWidth.map(String.init) ?? "?")): no ceiling"
        }
        let gen = Self.generation(gigatransfers: rate).map { "Gen\($0), " } ?? ""
        let name = Self.encoding(gigatransfers: rate).name
        return "PCIe \(Self.rateText(rate)) x\(width) (\(gen)\(name)): \(Self.rateText(bytesPerSecond: limit))"
            + " per direction"
    }

    /// A warning when `bytesPerSecond` is above what this link can carry now, nil when it is not
    /// (or when the link's limit is unknown).
    public func suspect(bytesPerSecond: Double) -> String? {
        guard let limit = theoreticalBytesPerSecond else { return nil }
        return Self.suspect(bytesPerSecond: bytesPerSecond, limit: limit, what: "the PCIe link (\(ceiling))")
    }

    /// The shared wording of a figure above a hardware limit.
    static func suspect(bytesPerSecond: Double, limit: Double, what: String) -> String? {
        guard bytesPerSecond.isFinite, limit > 0, bytesPerSecond > limit else { return nil }
        let percent = Int((bytesPerSecond / limit * 100).rounded())
        return "\(rateText(bytesPerSecond: bytesPerSecond)) is \(percent) % of the most \(what) can carry:"
            + " it cannot have come from the device. Likely causes: reads served from the page cache"
            + " (O_DIRECT not used or not honoured, or the page cache not dropped), or a sparse or short file"
            + " (holes read as zeros without touching the device)."
    }

    /// `8 GT/s`, `2.5 GT/s`.
    static func rateText(_ gigatransfers: Double) -> String {
        let whole = gigatransfers.rounded() == gigatransfers
        return (whole ? String(Int(gigatransfers)) : String(format: "%.1f", gigatransfers)) + " GT/s"
    }

    /// `3.94 GB/s = 3.67 GiB/s`.
    static func rateText(bytesPerSecond: Double) -> String {
        String(format: "%.2f GB/s = %.2f GiB/s", bytesPerSecond / 1e9, bytesPerSecond / Double(1 << 30))
    }
}

/// The storage device behind a folder, as far as the kernel tells: the block device (and the whole disk,
/// the NVMe controller, the layers of loop and device-mapper devices underneath), its model, firmware,
/// logical block size, rotational flag, I/O scheduler, the filesystem and mount, and the PCIe link.
///
/// Everything comes from `stat`, `/proc/self/mountinfo` and `/sys`; whatever the kernel does not say
/// stays nil, and `inspect(folder:)` never fails.
public struct StorageDevice: Sendable, Equatable, Codable {
    /// The folder as given.
    public var folder: String
    /// Why nothing could be found (the folder does not exist, cannot be read), or nil.
    public var problem: String?
    /// The folder's `st_dev` as `major:minor`.
    public var deviceNumber: String?
    /// The mount point of the filesystem holding the folder.
    public var mountPoint: String?
    /// The filesystem type (`ext4`, `xfs`, `tmpfs`, `overlay`, ...).
    public var filesystem: String?
    /// The mount source (`/dev/nvme0n1p2`, `tmpfs`, `overlay`, ...).
    public var mountSource: String?
    /// The block device the folder's filesystem is on (`nvme0n1p2`, `vda`, `dm-0`, `loop3`), or nil
    /// when there is none (tmpfs, overlay, network filesystems).
    public var blockDevice: String?
    /// The whole disk of a partition, or the block device itself when it is not a partition.
    public var wholeDisk: String?
    /// The NVMe controller (`nvme0`), when the disk is NVMe.
    public var controller: String?
    /// The bus or kind of device: `nvme`, `virtio`, `scsi`, `ata`, `usb`, `mmc`, `loop`,
    /// `device-mapper`, `md`, `zram`, `nbd`, `xen`, or `virtual`.
    public var bus: String?
    /// The model string from sysfs (NVMe controller or SCSI device), trimmed.
    public var model: String?
    /// The firmware revision from sysfs (`firmware_rev` for NVMe, `rev` for SCSI).
    public var firmware: String?
    /// `queue/logical_block_size` of the block device the folder is on (its whole disk for a partition).
    public var logicalBlockSize: Int?
    /// `queue/rotational` as sysfs says it (virtual disks often claim to rotate).
    public var rotational: Bool?
    /// The active I/O scheduler (`none`, `mq-deadline`, ...).
    public var scheduler: String?
    /// For a loop device, the file behind it (`loop/backing_file`).
    public var backingFile: String?
    /// For a device-mapper device, its name (`dm/name`), e.g. `vg0-root`.
    public var mapperName: String?
    /// The chain from the block device down to the physical disks, e.g. `["dm-0 (vg0-root)", "nvme0n1p3",
    /// "nvme0n1"]`.
    public var layers: [String]
    /// The PCI function nearest to the (first) physical disk, e.g. `0000:01:00.0`, link or not.
    public var pciAddress: String?
    /// The PCIe link of the (first) physical disk's PCI function, when sysfs has link attributes.
    public var pcie: PCIeLink?
    /// The most the hardware path can carry, in bytes per second: per physical disk the narrowest PCIe
    /// link between it and the root complex, summed over the disks under a RAID or device-mapper device.
    /// Nil when any of them has no known link.
    public var ceilingBytesPerSecond: Double?
    /// Remarks in plain words: what the kind of device means for the figures, what sysfs left out.
    public var notes: [String]

    /// An empty description of `folder`; `inspect(folder:)` fills it in.
    public init(folder: String) {
        self.folder = folder
        self.layers = []
        self.notes = []
    }

    /// Finds the device behind `folder`. Never fails: what cannot be found is nil and `problem` or
    /// `notes` say why.
    public static func inspect(folder: String) -> StorageDevice {
        inspect(folder: folder, sysfs: "/sys", mountInfo: "/proc/self/mountinfo", deviceNumber: nil)
    }

    /// The ceiling in words: the PCIe link limit, or why there is none.
    public var ceiling: String {
        if let limit = ceilingBytesPerSecond {
            var text = "\(PCIeLink.rateText(bytesPerSecond: limit)) per direction"
            if let pcie, pcie.theoreticalBytesPerSecond == limit { text = pcie.ceiling }
            return text + " (theoretical; packet headers keep real transfers some 10–15 % lower)"
        }
        if problem != nil { return "unknown: no device found" }
        if blockDevice == nil { return "none: \(filesystem ?? "this filesystem") has no block device behind it" }
        if let pcie {
            if pcie.theoreticalBytesPerSecond == nil { return "unknown: \(pcie.ceiling)" }
            return "unknown: the link of \(pcie.address) is not taken as a limit (see the notes)"
        }
        if let pciAddress {
            return "unknown: PCI device \(pciAddress) has no PCIe link attributes in sysfs"
                + " (conventional or emulated PCI)"
        }
        return "unknown: no PCIe link found in sysfs for \(wholeDisk ?? blockDevice ?? "the device")"
    }

    /// A warning when `bytesPerSecond` is above `ceilingBytesPerSecond`, naming the likely cause; nil when
    /// it is not, or when the ceiling is unknown.
    public func suspect(bytesPerSecond: Double) -> String? {
        guard let limit = ceilingBytesPerSecond else { return nil }
        let what = pcie.map { "the PCIe link of \(wholeDisk ?? $0.address)" } ?? "the device's links"
        return PCIeLink.suspect(bytesPerSecond: bytesPerSecond, limit: limit, what: what)
    }

    /// The description as plain lines for `aio-bench doctor` and report headers.
    public var summary: [String] {
        func show(_ value: String?) -> String { value ?? "(not in sysfs)" }
        var lines = ["folder: \(folder)"]
        if let problem {
            lines.append("device: unknown (\(problem))")
            return lines + notes.map { "note: \($0)" }
        }
        var mount = "filesystem: \(filesystem ?? "unknown")"
        if let mountSource, mountSource != filesystem { mount += " from \(mountSource)" }
        if let mountPoint { mount += ", mounted at \(mountPoint)" }
        lines.append(mount)
        if let blockDevice {
            var text = "block device: \(blockDevice)"
            if let deviceNumber { text += " (\(deviceNumber))" }
            if let wholeDisk, wholeDisk != blockDevice { text += ", partition of \(wholeDisk)" }
            if let bus { text += ", bus \(bus)" }
            lines.append(text)
            if layers.count > 1 { lines.append("layers: " + layers.joined(separator: " → ")) }
            if let backingFile { lines.append("backing file: \(backingFile)") }
            var ident = "model: \(show(model)), firmware: \(show(firmware))"
            if let controller { ident += ", controller \(controller)" }
            lines.append(ident)
            let block = logicalBlockSize.map { "\($0) B" }
            let rotates = rotational.map { $0 ? "yes" : "no" }
            lines.append("logical block size: \(show(block)), rotational: \(show(rotates)),"
                + " scheduler: \(show(scheduler))")
            if let pcie {
                lines.append(pcie.description)
            } else if let pciAddress {
                lines.append("PCIe link: none in sysfs (PCI device \(pciAddress) has no link attributes)")
            } else {
                lines.append("PCIe link: none in sysfs")
            }
        } else {
            lines.append("block device: none" + (deviceNumber.map { " (st_dev \($0))" } ?? ""))
        }
        lines.append("ceiling: \(ceiling)")
        return lines + notes.map { "note: \($0)" }
    }
}

// MARK: - Inspection

extension StorageDevice {
    /// `inspect(folder:)` against another sysfs root and mountinfo file, and optionally a given device number
    /// instead of the folder's own (for tests on a fake sysfs tree).
    static func inspect(folder: String, sysfs: String, mountInfo: String, deviceNumber override: (Int, Int)?)
        -> StorageDevice
    {
        var device = StorageDevice(folder: folder)
        guard let path = SysFS.realPath(folder) else {
            device.problem = "cannot resolve \(folder): \(String(cString: strerror(errno)))"
            return device
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            device.problem = "cannot stat \(path): \(String(cString: strerror(errno)))"
            return device
        }
        var (major, minor) = override ?? SysFS.split(UInt64(info.st_dev))
        device.deviceNumber = "\(major):\(minor)"

        let mounts = MountEntry.parse(SysFS.read(mountInfo) ?? "")
        if let mount = MountEntry.best(for: path, major: major, minor: minor, in: mounts) {
            device.mountPoint = mount.mountPoint
            device.filesystem = mount.fsType
            device.mountSource = mount.source
            if major == 0, override == nil, mount.source.hasPrefix("/dev/") {
                // btrfs and others give files an anonymous st_dev: take the device of the mount source.
                var source = stat()
                if stat(mount.source, &source) == 0, source.st_mode & S_IFMT == S_IFBLK {
                    (major, minor) = SysFS.split(UInt64(source.st_rdev))
                    device.notes.append("\(mount.fsType) gives files an anonymous device number"
                        + " (\(device.deviceNumber ?? "")): using the mount source \(mount.source)")
                }
            }
            if major == 0 { device.notes.append(MountEntry.remark(for: mount)) }
        } else if major == 0 {
            device.notes.append("no block device and no mount entry found for \(path)")
        }
        guard major != 0 else { return device }

        let sys = SysFS(root: SysFS.realPath(sysfs) ?? sysfs)
        guard let devDir = SysFS.realPath("\(sysfs)/dev/block/\(major):\(minor)") else {
            device.notes.append("\(sysfs)/dev/block/\(major):\(minor) does not exist: sysfs does not know the device")
            return device
        }
        let block = sys.describe(blockDir: devDir, depth: 0)
        device.blockDevice = block.name
        device.wholeDisk = block.wholeDisk
        device.bus = block.bus
        device.backingFile = block.backingFile
        device.mapperName = block.mapperName
        device.layers = block.layers
        device.notes += block.notes
        if let leaf = block.physical.first {
            device.model = leaf.model
            device.firmware = leaf.firmware
            device.controller = leaf.controller
            device.pciAddress = leaf.pciAddress
            device.pcie = leaf.link
        }
        if !block.physical.isEmpty, block.physical.allSatisfy({ $0.limit != nil }) {
            device.ceilingBytesPerSecond = block.physical.reduce(0) { $0 + ($1.limit ?? 0) }
            if block.physical.count > 1 {
                device.notes.append("ceiling is the sum over \(block.physical.count) underlying disks")
            }
        }
        // Queue attributes: the device the folder is on has its own queue unless it is a partition.
        let queueDir = sys.exists("\(devDir)/queue") ? devDir : block.wholeDiskDir
        device.logicalBlockSize = sys.int("\(queueDir)/queue/logical_block_size")
        device.rotational = sys.int("\(queueDir)/queue/rotational").map { $0 != 0 }
        device.scheduler = sys.read("\(queueDir)/queue/scheduler").flatMap(SysFS.activeScheduler)
        if device.bus == "virtio" {
            device.notes.append("virtio disk: the hypervisor decides its speed; sysfs has no model or firmware,"
                + " and its rotational flag is whatever the host reports")
        }
        return device
    }
}

/// One line of `/proc/self/mountinfo`.
struct MountEntry: Equatable {
    /// `major:minor` of the filesystem (field 3).
    var major: Int
    /// See `major`.
    var minor: Int
    /// The mount point, unescaped.
    var mountPoint: String
    /// The filesystem type.
    var fsType: String
    /// The mount source, unescaped.
    var source: String
    /// The superblock options (overlay's `upperdir=` lives here).
    var superOptions: String

    /// Parses mountinfo text; malformed lines are skipped.
    static func parse(_ text: String) -> [MountEntry] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count >= 7, let dash = fields.firstIndex(of: "-"), dash >= 6, dash + 2 < fields.count
            else { return nil }
            let numbers = fields[2].split(separator: ":")
            guard numbers.count == 2, let major = Int(numbers[0]), let minor = Int(numbers[1]) else { return nil }
            return MountEntry(
                major: major, minor: minor, mountPoint: unescape(fields[4]), fsType: fields[dash + 1],
                source: unescape(fields[dash + 2]), superOptions: dash + 3 < fields.count ? fields[dash + 3] : "")
        }
    }

    /// The kernel writes space, tab, newline and backslash as `\040`, `\011`, `\012`, `\134`.
    static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        let input = Array(field.utf8)
        var i = 0
        while i < input.count {
            if input[i] == UInt8(ascii: "\\"), i + 3 < input.count,
                let value = UInt8(String(decoding: input[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                i += 4
            } else {
                bytes.append(input[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The mount holding `path`: the deepest mount point above it with the same device number, else the
    /// deepest mount point above it. Later entries win ties (they are mounted over earlier ones).
    static func best(for path: String, major: Int, minor: Int, in mounts: [MountEntry]) -> MountEntry? {
        func contains(_ mount: MountEntry) -> Bool {
            mount.mountPoint == "/" || path == mount.mountPoint || path.hasPrefix(mount.mountPoint + "/")
        }
        let above = mounts.filter(contains)
        let same = above.filter { $0.major == major && $0.minor == minor }
        let pool = same.isEmpty ? above : same
        return pool.enumerated().max { a, b in
            a.element.mountPoint.count != b.element.mountPoint.count
                ? a.element.mountPoint.count < b.element.mountPoint.count : a.offset < b.offset
        }?.element
    }

    /// What a filesystem without a block device means for a benchmark.
    static func remark(for mount: MountEntry) -> String {
        switch mount.fsType {
        case "tmpfs", "ramfs":
            return "\(mount.fsType) lives in memory: figures measure RAM, not storage (and O_DIRECT may be refused)"
        case "overlay":
            let upper = mount.superOptions.split(separator: ",").first { $0.hasPrefix("upperdir=") }
            let place = upper.map { " in \($0.dropFirst("upperdir=".count))" } ?? ""
            return "overlay filesystem: new files land in its upper layer\(place); benchmark a folder on the"
                + " disk itself (a bind mount or volume) to measure the device"
        case "nfs", "nfs4", "cifs", "smb3", "9p", "virtiofs", "ceph", "glusterfs":
            return "\(mount.fsType) is a network or shared filesystem: no local block device"
        default:
            if mount.fsType.hasPrefix("fuse") { return "\(mount.fsType) is a user-space filesystem: no block device" }
            return "\(mount.fsType) has no block device behind it"
        }
    }
}

/// Reads of sysfs and the walks through it.
struct SysFS {
    /// The sysfs root, `/sys` except in tests.
    var root: String

    /// One physical disk under a block device.
    struct Physical {
        var model: String?
        var firmware: String?
        var controller: String?
        var pciAddress: String?
        var link: PCIeLink?
        /// The narrowest known link on the way to the root complex, bytes/s.
        var limit: Double?
    }

    /// What `describe(blockDir:depth:)` finds.
    struct Block {
        var name: String
        var wholeDisk: String
        var wholeDiskDir: String
        var bus: String?
        var backingFile: String?
        var mapperName: String?
        var layers: [String] = []
        var physical: [Physical] = []
        var notes: [String] = []
    }

    /// Describes the block device at sysfs directory `blockDir` (a real path under `devices/`), following
    /// partitions to the whole disk, device-mapper and md devices to their slaves, loop devices to the
    /// device of their backing file, and disks to their controller and PCI function.
    func describe(blockDir: String, depth: Int) -> Block {
        let name = (blockDir as NSString).lastPathComponent
        let isPartition = exists("\(blockDir)/partition")
        let wholeDir = isPartition ? (blockDir as NSString).deletingLastPathComponent : blockDir
        let whole = (wholeDir as NSString).lastPathComponent
        var block = Block(name: name, wholeDisk: whole, wholeDiskDir: wholeDir)
        block.layers = isPartition ? [name, whole] : [name]
        guard depth < 4 else {
            block.notes.append("stopped following layers below \(name)")
            return block
        }
        let slaves = list("\(wholeDir)/slaves")
        if let dmName = read("\(wholeDir)/dm/name") {
            block.bus = "device-mapper"
            block.mapperName = dmName
            block.layers[block.layers.count - 1] = "\(whole) (\(dmName))"
        } else if exists("\(wholeDir)/md") {
            block.bus = "md"
        } else if exists("\(wholeDir)/loop") || whole.hasPrefix("loop") {
            block.bus = "loop"
            block.backingFile = read("\(wholeDir)/loop/backing_file")
            if let file = block.backingFile {
                describeLoopBacking(file: file, depth: depth, into: &block)
            } else {
                block.notes.append("\(whole) has no backing file in sysfs")
            }
            return block
        } else {
            block.bus = Self.bus(of: wholeDir, device: realPath("\(wholeDir)/device"))
        }
        if block.bus == "device-mapper" || block.bus == "md" || (!slaves.isEmpty && block.bus == "virtual") {
            for (index, slave) in slaves.enumerated() {
                guard let dir = realPath("\(wholeDir)/slaves/\(slave)") else { continue }
                let below = describe(blockDir: dir, depth: depth + 1)
                if index == 0 { block.layers += below.layers }
                block.physical += below.physical
                block.notes += below.notes
            }
            if slaves.count > 1 {
                block.notes.append("\(whole) spans \(slaves.count) devices: \(slaves.joined(separator: ", "))")
            }
            return block
        }
        switch block.bus {
        case "zram":
            block.notes.append("\(whole) is compressed RAM: figures measure memory and CPU, not storage")
            return block
        case "virtual", "nbd":
            return block
        default:
            break
        }
        block.physical = [physical(wholeDir: wholeDir, bus: block.bus, notes: &block.notes)]
        return block
    }

    /// Follows a loop device to the disk of its backing file.
    private func describeLoopBacking(file: String, depth: Int, into block: inout Block) {
        let folder = (file as NSString).deletingLastPathComponent
        var info = stat()
        guard stat(file, &info) == 0 else {
            block.notes.append("backing file \(file) cannot be read here: its disk is unknown")
            return
        }
        let (major, minor) = SysFS.split(UInt64(info.st_dev))
        guard major != 0, let dir = realPath("\(root)/dev/block/\(major):\(minor)") else {
            block.notes.append("backing file \(file) is on a filesystem without a block device (\(folder))")
            return
        }
        let below = describe(blockDir: dir, depth: depth + 1)
        block.layers += ["file \(file)"] + below.layers
        block.physical = below.physical
        block.notes += below.notes
    }

    /// The physical disk at `wholeDir`: model, firmware, NVMe controller, PCI function and links.
    private func physical(wholeDir: String, bus: String?, notes: inout [String]) -> Physical {
        var result = Physical()
        var deviceDir = realPath("\(wholeDir)/device")
        if let dir = deviceDir, (dir as NSString).lastPathComponent.hasPrefix("nvme-subsys") {
            // Native NVMe multipath: the namespace hangs off the subsystem, which links to its controllers.
            let controllers = list(dir).filter { Self.matches($0, prefix: "nvme") }
            if let first = controllers.first, let real = realPath("\(dir)/\(first)") { deviceDir = real }
            result.model = read("\(dir)/model")
            result.firmware = read("\(dir)/firmware_rev")
        }
        guard let deviceDir else {
            notes.append("\((wholeDir as NSString).lastPathComponent) has no device link in sysfs")
            return result
        }
        if bus == "nvme", Self.matches((deviceDir as NSString).lastPathComponent, prefix: "nvme") {
            result.controller = (deviceDir as NSString).lastPathComponent
        }
        result.model = read("\(deviceDir)/model") ?? result.model
        result.firmware = read("\(deviceDir)/firmware_rev") ?? read("\(deviceDir)/rev") ?? result.firmware
        if bus == "scsi" || bus == "ata" || bus == "usb",
            let vendor = read("\(deviceDir)/vendor"), vendor != "ATA", let model = result.model
        {
            result.model = "\(vendor) \(model)"
        }
        // Walk up to the root complex: the nearest PCI function names the device; every link on the way
        // can limit it.
        var dir = deviceDir
        var limits: [Double] = []
        while dir.hasPrefix(root + "/devices/"), dir.count > root.count + "/devices/".count {
            let base = (dir as NSString).lastPathComponent
            if Self.isPCIAddress(base) {
                if result.pciAddress == nil { result.pciAddress = base }
                if exists("\(dir)/current_link_speed") || exists("\(dir)/current_link_width") {
                    let link = PCIeLink(
                        address: base, currentSpeed: read("\(dir)/current_link_speed"),
                        currentWidth: int("\(dir)/current_link_width").flatMap { $0 > 0 ? $0 : nil },
                        maxSpeed: read("\(dir)/max_link_speed"),
                        maxWidth: int("\(dir)/max_link_width").flatMap { $0 > 0 ? $0 : nil })
                    if result.link == nil { result.link = link }
                    if let limit = link.theoreticalBytesPerSecond { limits.append(limit) }
                }
            }
            dir = (dir as NSString).deletingLastPathComponent
        }
        guard let link = result.link else { return result }
        guard let endpoint = link.theoreticalBytesPerSecond else {
            notes.append("PCIe link of \(link.address) reports speed \(link.currentSpeed ?? "none")"
                + " width \(link.currentWidth.map(String.init) ?? "none"): no ceiling")
            return result
        }
        if bus == "virtio" {
            notes.append("the PCIe link of virtio device \(link.address) is emulated: not taken as a ceiling")
            return result
        }
        let narrowest = limits.min() ?? endpoint
        result.limit = narrowest
        if narrowest < endpoint {
            notes.append("a link between \(link.address) and the root complex is narrower than the device's own:"
                + " ceiling \(PCIeLink.rateText(bytesPerSecond: narrowest))")
        }
        if let best = link.maxTheoreticalBytesPerSecond, endpoint < best {
            notes.append("PCIe link of \(link.address) runs below its maximum (\(link.currentSpeed ?? "?")"
                + " x\(link.currentWidth ?? 0) of \(link.maxSpeed ?? "?") x\(link.maxWidth ?? 0))")
        }
        return result
    }

    /// The bus of a whole disk, from the path of its sysfs directory and its device's subsystem.
    static func bus(of wholeDir: String, device: String?) -> String {
        let name = (wholeDir as NSString).lastPathComponent
        let parts = (device ?? wholeDir).split(separator: "/").map(String.init)
        if name.hasPrefix("zram") { return "zram" }
        if name.hasPrefix("nbd") { return "nbd" }
        if name.hasPrefix("nvme") || parts.contains("nvme") || parts.contains(where: { $0.hasPrefix("nvme-subsys") }) {
            return "nvme"
        }
        if parts.contains(where: { matches($0, prefix: "virtio") }) { return "virtio" }
        if parts.contains(where: { matches($0, prefix: "usb") }) { return "usb" }
        if parts.contains(where: { matches($0, prefix: "ata") }) { return "ata" }
        if parts.contains(where: { matches($0, prefix: "mmc") || $0.hasPrefix("mmc_host") }) { return "mmc" }
        if parts.contains(where: { $0.hasPrefix("vbd-") }) { return "xen" }
        if parts.contains(where: { matches($0, prefix: "host") }) || parts.contains(where: { $0.hasPrefix("target") }) {
            return "scsi"
        }
        if let device, let subsystem = realPath("\(device)/subsystem") {
            return (subsystem as NSString).lastPathComponent
        }
        return "virtual"
    }

    /// True for `prefix` followed by one or more digits and nothing else (`nvme0`, `virtio12`).
    static func matches(_ text: String, prefix: String) -> Bool {
        guard text.hasPrefix(prefix) else { return false }
        let rest = text.dropFirst(prefix.count)
        return !rest.isEmpty && rest.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// True for `dddd:bb:dd.f` in hexadecimal, the name of a PCI function in sysfs.
    static func isPCIAddress(_ text: String) -> Bool {
        let chars = Array(text)
        guard chars.count == 12, chars[4] == ":", chars[7] == ":", chars[10] == "." else { return false }
        return chars.enumerated().allSatisfy { i, c in [4, 7, 10].contains(i) || c.isHexDigit }
    }

    /// The name in brackets of `queue/scheduler` (`none [mq-deadline] kyber` → `mq-deadline`), or the only word.
    static func activeScheduler(_ text: String) -> String? {
        if let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") {
            return String(text[text.index(after: open)..<close])
        }
        let words = text.split(separator: " ")
        return words.count == 1 ? String(words[0]) : nil
    }

    /// A Linux `dev_t` as major and minor numbers (glibc's encoding).
    static func split(_ dev: UInt64) -> (Int, Int) {
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~UInt64(0xfff))
        let minor = (dev & 0xff) | ((dev >> 12) & ~UInt64(0xff))
        return (Int(truncatingIfNeeded: major), Int(truncatingIfNeeded: minor))
    }

    /// The canonical path with every symbolic link resolved, or nil (errno set) when it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// See `SysFS.realPath(_:)`.
    func realPath(_ path: String) -> String? { Self.realPath(path) }

    /// A small file's text without surrounding whitespace; nil when missing, unreadable or empty.
    static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// See `SysFS.read(_:)`.
    func read(_ path: String) -> String? { Self.read(path) }

    /// A file holding one integer.
    func int(_ path: String) -> Int? { read(path).flatMap { Int($0) } }

    /// Whether `path` exists (following links).
    func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The names in a folder, sorted; empty when it is missing.
    func list(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }
}
