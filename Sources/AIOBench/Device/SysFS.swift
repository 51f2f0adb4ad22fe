import AsyncIO
import Foundation

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
        let name = PathName.lastComponent(of: blockDir)
        let isPartition = exists("\(blockDir)/partition")
        let wholeDir = isPartition ? PathName.parent(of: blockDir) : blockDir
        let whole = PathName.lastComponent(of: wholeDir)
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
        let folder = PathName.parent(of: file)
        guard let info = try? FileSystem.status(of: file) else {
            block.notes.append("backing file \(file) cannot be read here: its disk is unknown")
            return
        }
        let (major, minor) = SysFS.split(info.device)
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
        if let dir = deviceDir, PathName.lastComponent(of: dir).hasPrefix("nvme-subsys") {
            // Native NVMe multipath: the namespace hangs off the subsystem, which links to its controllers.
            let controllers = list(dir).filter { Self.matches($0, prefix: "nvme") }
            if let first = controllers.first, let real = realPath("\(dir)/\(first)") { deviceDir = real }
            result.model = read("\(dir)/model")
            result.firmware = read("\(dir)/firmware_rev")
        }
        guard let deviceDir else {
            notes.append("\(PathName.lastComponent(of: wholeDir)) has no device link in sysfs")
            return result
        }
        if bus == "nvme", Self.matches(PathName.lastComponent(of: deviceDir), prefix: "nvme") {
            result.controller = PathName.lastComponent(of: deviceDir)
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
            let base = PathName.lastComponent(of: dir)
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
            dir = PathName.parent(of: dir)
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
        let name = PathName.lastComponent(of: wholeDir)
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
            return PathName.lastComponent(of: subsystem)
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

    /// The canonical path with every symbolic link resolved, or nil when it does not exist.
    static func realPath(_ path: String) -> String? { try? FileSystem.resolvedPath(path) }

    /// See `SysFS.realPath(_:)`.
    func realPath(_ path: String) -> String? { Self.realPath(path) }

    /// A small file's text without surrounding whitespace; nil when missing, unreadable or empty.
    static func read(_ path: String) -> String? {
        guard let data = try? FileSystem.contents(of: path, limit: 1 << 20) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// See `SysFS.read(_:)`.
    func read(_ path: String) -> String? { Self.read(path) }

    /// A file holding one integer.
    func int(_ path: String) -> Int? { read(path).flatMap { Int($0) } }

    /// Whether `path` exists (following links).
    func exists(_ path: String) -> Bool { FileSystem.isAccessible(path) }

    /// The names in a folder, sorted; empty when it is missing.
    func list(_ path: String) -> [String] {
        ((try? FileSystem.contentsOfDirectory(path)) ?? []).sorted()
    }
}
