import AsyncIO

/// Engine names as users and DeepSpeed scripts spell them: one table, used by `--engine`, sweep
/// configs, simulated-device models and every help and error text.
public enum EngineName {
    /// Every engine with all the spellings that name it; the first is its own name.
    static let table: [(kind: EngineKind, names: [String])] = [
        (.auto, ["auto"]),
        (.uring, ["io_uring", "uring", "iouring"]),
        (.aio, ["aio", "aio_handle", "aio_basic", "libaio"]),
        (.posix, ["posix", "psync", "sync"]),
        (.null, ["null"]),
        (.sim, ["sim", "simulated"]),
    ]

    /// DeepSpeed's engines that need torch and a GPU.
    static let torchEngines = ["torch_io", "torch_fastio"]

    /// Every accepted spelling, for help and error text:
    /// `auto, io_uring (also uring, iouring), aio (also aio_handle, aio_basic, libaio), ...`.
    public static let accepted = table.map { entry in
        entry.names.count == 1
            ? entry.names[0] : "\(entry.names[0]) (also \(entry.names.dropFirst().joined(separator: ", ")))"
    }.joined(separator: ", ")

    /// Parses an engine name (any case); DeepSpeed's torch engines and unknown names are usage
    /// errors naming `flag` and listing every accepted spelling.
    public static func parse(_ text: String, flag: String = "--engine") throws(BenchError) -> EngineKind {
        let lowered = text.lowercased()
        if let entry = table.first(where: { $0.names.contains(lowered) }) { return entry.kind }
        if torchEngines.contains(lowered) {
            throw .usage("\(flag) \(text) is DeepSpeed's torch engine and is not supported on this machine "
                + "(no torch, no CUDA runtime): use one of \(accepted)")
        }
        throw .usage("\(flag) '\(text)' is not an engine: use one of \(accepted)")
    }
}

/// GPU features DeepSpeed offers (`--gpu`, `--use_gds`) need a CUDA runtime.
public enum GPUSupport {
    /// Throws a usage error explaining why `feature` cannot run here.
    public static func refuse(_ feature: String) throws(BenchError) {
        let names = ["libcudart.so", "libcudart.so.12", "libcudart.so.11.0"]
        let found = names.contains(where: SystemInfo.canLoadLibrary)
        if !found {
            throw .usage("\(feature) is not supported on this machine: no CUDA runtime (libcudart.so) could be loaded")
        }
        throw .usage("\(feature) is not supported by aio-bench: it moves data between NVMe and host memory only")
    }
}
