/// ds_io flags that belong to DeepSpeed's torch and GPU paths: accepted so that DeepSpeed's command
/// lines run unchanged, never silently — each prints one note saying it is ignored and why.
public enum TorchOnlyFlag: String, CaseIterable, Sendable {
    /// `--slow_bounce_buffer`: the torch_fastio engine's slower bounce-buffer copy.
    case slowBounceBuffer = "--slow_bounce_buffer"
    /// `--torch_legacy_save`: torch's old serialisation format for the torch engines.
    case torchLegacySave = "--torch_legacy_save"
    /// `--use_accelerator_pin_memory`: pinned memory allocated through the accelerator (GPU) runtime.
    case useAcceleratorPinMemory = "--use_accelerator_pin_memory"
    /// `--fast_io_size`: the bounce-buffer size of the torch_fastio engine (used by `--stream`).
    case fastIOSize = "--fast_io_size"

    /// The note printed when the flag is given.
    public var note: String {
        switch self {
        case .slowBounceBuffer:
            "\(rawValue) is ignored: it selects the bounce-buffer copy of DeepSpeed's torch_fastio engine, "
                + "which needs torch; aio-bench runs the aio_handle path"
        case .torchLegacySave:
            "\(rawValue) is ignored: it selects torch's old file format for DeepSpeed's torch engines, "
                + "which aio-bench does not run"
        case .useAcceleratorPinMemory:
            "\(rawValue) is ignored: it pins memory through a GPU runtime, and there is none here; "
                + "aio-bench page-locks its buffers itself"
        case .fastIOSize:
            "\(rawValue) is ignored without --stream: it sizes the bounce buffer of DeepSpeed's torch_fastio "
                + "engine; with --stream it sizes the bounce buffers of swift-aio's streaming writer and reader"
        }
    }
}
