import AsyncIO
import Foundation

/// The storage device behind a folder, as far as the kernel tells: the block device (and the whole disk,
/// the NVMe controller, the layers of loop and device-mapper devices underneath), its model, firmware,
/// logical block size, rotational flag, I/O scheduler, the filesystem and mount, and the PCIe link.
///
/// Everything comes from `stat`, `/proc/self/mountinfo` and `/sys`; whatever the kernel does not say
/// stays nil, and `inspect(folder:)` never fails.
public struct StorageDevice: Sendable, Equatable, Codable {
    /// The folder as given.
    var folder: String
    /// Why nothing could be found (the folder does not exist, cannot be read), or nil.
    var problem: String?
    /// The folder's `st_dev` as `major:minor`.
    var deviceNumber: String?
    /// The mount point of the filesystem holding the folder.
    var mountPoint: String?
    /// The filesystem type (`ext4`, `xfs`, `tmpfs`, `overlay`, ...).
    var filesystem: String?
    /// The mount source (`/dev/nvme0n1p2`, `tmpfs`, `overlay`, ...).
    var mountSource: String?
    /// The block device the folder's filesystem is on (`nvme0n1p2`, `vda`, `dm-0`, `loop3`), or nil
    /// when there is none (tmpfs, overlay, network filesystems).
    var blockDevice: String?
    /// The whole disk of a partition, or the block device itself when it is not a partition.
    var wholeDisk: String?
    /// The NVMe controller (`nvme0`), when the disk is NVMe.
    var controller: String?
    /// The bus or kind of device: `nvme`, `virtio`, `scsi`, `ata`, `usb`, `mmc`, `loop`,
    /// `device-mapper`, `md`, `zram`, `nbd`, `xen`, or `virtual`.
    var bus: String?
    /// The model string from sysfs (NVMe controller or SCSI device), trimmed.
    var model: String?
    /// The firmware revision from sysfs (`firmware_rev` for NVMe, `rev` for SCSI).
    var firmware: String?
    /// `queue/logical_block_size` of the block device the folder is on (its whole disk for a partition).
    var logicalBlockSize: Int?
    /// `queue/rotational` as sysfs says it (virtual disks often claim to rotate).
    var rotational: Bool?
    /// The active I/O scheduler (`none`, `mq-deadline`, ...).
    var scheduler: String?
    /// For a loop device, the file behind it (`loop/backing_file`).
    var backingFile: String?
    /// For a device-mapper device, its name (`dm/name`), e.g. `vg0-root`.
    var mapperName: String?
    /// The chain from the block device down to the physical disks, e.g. `["dm-0 (vg0-root)", "nvme0n1p3",
    /// "nvme0n1"]`.
    var layers: [String]
    /// The PCI function nearest to the (first) physical disk, e.g. `0000:01:00.0`, link or not.
    var pciAddress: String?
    /// The PCIe link of the (first) physical disk's PCI function, when sysfs has link attributes.
    var pcie: PCIeLink?
    /// The most the hardware path can carry, in bytes per second: per physical disk the narrowest PCIe
    /// link between it and the root complex, summed over the disks under a RAID or device-mapper device.
    /// Nil when any of them has no known link.
    var ceilingBytesPerSecond: Double?
    /// Remarks in plain words: what the kind of device means for the figures, what sysfs left out.
    var notes: [String]

    /// An empty description of `folder`; `inspect(folder:)` fills it in.
    init(folder: String) {
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
    var ceiling: String {
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
    func suspect(bytesPerSecond: Double) -> String? {
        guard let limit = ceilingBytesPerSecond else { return nil }
        let what = pcie.map { "the PCIe link of \(wholeDisk ?? $0.address)" } ?? "the device's links"
        return PCIeLink.suspect(bytesPerSecond: bytesPerSecond, limit: limit, what: what)
    }

    /// The description as plain lines for `aio-bench doctor` and report headers.
    var summary: [String] {
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
        let path: String
        let info: FileStatus
        do {
            path = try FileSystem.resolvedPath(folder)
        } catch {
            device.problem = "cannot resolve \(folder): \(error.reason)"
            return device
        }
        do {
            info = try FileSystem.status(of: path)
        } catch {
            device.problem = "cannot stat \(path): \(error.reason)"
            return device
        }
        var (major, minor) = override ?? SysFS.split(info.device)
        device.deviceNumber = "\(major):\(minor)"

        let mounts = MountEntry.parse(SysFS.read(mountInfo) ?? "")
        if let mount = MountEntry.best(for: path, major: major, minor: minor, in: mounts) {
            device.mountPoint = mount.mountPoint
            device.filesystem = mount.fsType
            device.mountSource = mount.source
            if major == 0, override == nil, mount.source.hasPrefix("/dev/") {
                // btrfs and others give files an anonymous st_dev: take the device of the mount source.
                if let source = try? FileSystem.status(of: mount.source), source.kind == .blockDevice {
                    (major, minor) = SysFS.split(source.representedDevice)
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
