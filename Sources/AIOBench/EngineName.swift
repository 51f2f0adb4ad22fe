import AsyncIO

/// Engine names as users and DeepSpeed scripts spell them.
public enum EngineName {
    /// Every accepted spelling, for help and error text.
    public static let accepted = "auto, io_uring, aio (also aio_handle, aio_basic, libaio), posix, null"

    /// Parses an engine name; DeepSpeed's torch engines and unknown names are usage errors.
    public static func parse(_ text: String) throws(BenchError) -> EngineKind {
        switch text.lowercased() {
        case "auto": return .auto
        case "io_uring", "uring", "iouring": return .uring
        case "aio", "aio_handle", "aio_basic", "libaio": return .aio
        case "posix", "psync", "sync": return .posix
        case "null": return .null
        case "torch_io", "torch_fastio":
            throw .usage("--engine \(text) is DeepSpeed's torch engine and is not supported on this machine "
                + "(no torch, no CUDA runtime): use one of \(accepted)")
        default:
            throw .usage("--engine '\(text)' is not an engine: use one of \(accepted)")
        }
    }
}

/// GPU features DeepSpeed offers (`--gpu`, `--use_gds`) need a CUDA runtime.
public enum GPUSupport {
    /// Throws a usage error explaining why `feature` cannot run here.
    public static func refuse(_ feature: String) throws(BenchError) {
        let names = ["libcudart.so", "libcudart.so.12", "libcudart.so.11.0"]
        let found = names.contains { name in
            if let h = dlopen(name, RTLD_LAZY) {
                dlclose(h)
                return true
            }
            return false
        }
        if !found {
            throw .usage("\(feature) is not supported on this machine: no CUDA runtime (libcudart.so) could be loaded")
        }
        throw .usage("\(feature) is not supported by aio-bench: it moves data between NVMe and host memory only")
    }
}

#if canImport(Glibc)
import Glibc
#endif
