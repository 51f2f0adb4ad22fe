@testable import AIOBench
import AsyncIO
import Testing

/// `--sim_model FILE.json`: DeepSpeed's key names and value forms, every mistake named.
@Suite("Simulation model file")
struct SimulationModelFileTests {
    func parse(_ text: String) throws(BenchError) -> SimulatedDevice {
        try SimulationModelFile.parse(Array(text.utf8), source: "model")
    }

    @Test("the issue's example reads as written")
    func example() throws {
        let model = try parse("""
            {"seed": 7, "noise": 0.05,
             "read":  {"default": 1.0, "speeds": [{"block_size": "1M", "queue_depth": 32, "single_submit": false,
                                                   "sequential_requests": false, "io_parallel": 1, "gibps": 3.2}]},
             "write": {"default": 0.8, "speeds": []}}
            """)
        #expect(model.seed == 7 && model.noise == 0.05 && model.drift == 0)
        #expect(model.read.speeds == [SimulatedDevice.Entry(blockSize: 1 << 20, queueDepth: 32, singleSubmit: false,
                                                             overlapEvents: true, intraOpParallelism: 1, gibps: 3.2)])
        #expect(model.gibps(.read, HandleConfig(blockSize: 1 << 20, queueDepth: 32)) == 3.2)
        #expect(model.gibps(.write, HandleConfig()) == 0.8)
        let withDrift = try parse(#"{"seed": 1, "drift": 0.02, "read": {"default": 2}, "write": {"default": 1,"#
            + #" "speeds": [{"block_size": 8388608, "overlap_events": false, "gibps": 3}]}}"#)
        #expect(withDrift.drift == 0.02)
        #expect(withDrift.write.speeds.first?.overlapEvents == false && withDrift.write.speeds.first?.blockSize == 8 << 20)
    }

    @Test("each mistake is one usage line naming the key", arguments: [
        (#"{"read": {"default": 1}, "write": {"default": 1}}"#, "lacks \"seed\""),
        (#"{"seed": 1, "write": {"default": 1}}"#, "lacks \"read\""),
        (#"{"seed": 1, "read": {"default": 1}, "write": {"default": 1}, "jitter": 2}"#, "unknown key \"jitter\""),
        (#"{"seed": 1, "read": {}, "write": {"default": 1}}"#, "key \"read\" lacks \"default\""),
        (#"{"seed": -1, "read": {"default": 1}, "write": {"default": 1}}"#, "key \"seed\" value -1"),
        (#"{"seed": 1, "noise": "lots", "read": {"default": 1}, "write": {"default": 1}}"#, "key \"noise\""),
        (#"{"seed": 1, "read": {"default": 1, "speeds": [{"gibps": 1, "queue_depth": true}]}, "write": {"default": 1}}"#,
         "speeds[0] key \"queue_depth\""),
        (#"{"seed": 1, "read": {"default": 1, "speeds": [{"block_size": "1Q", "gibps": 1}]}, "write": {"default": 1}}"#,
         "block_size"),
        (#"{"seed": 1, "read": {"default": 1, "speeds": [{"block_size": "1M"}]}, "write": {"default": 1}}"#,
         "lacks \"gibps\""),
        (#"{"seed": 1, "read": {"default": 0}, "write": {"default": 1}}"#, "read speed 0.0 GiB/s must be a positive"),
        (#"[1]"#, "must be an object"),
        (#"{"seed": 1,"#, "is not valid JSON"),
    ])
    func mistakes(_ text: String, _ named: String) {
        let error = #expect(throws: BenchError.self) { try parse(text) }
        #expect(error?.exitCode == 64)
        #expect(error?.description.contains(named) == true, "\(error?.description ?? "")")
    }

    @Test("--engine sim needs a model, and a model needs --engine sim")
    func flags() throws {
        #expect(throws: BenchError.self) { try SimulationModelFile.forEngine(.sim, model: nil) }
        #expect(throws: BenchError.self) { try SimulationModelFile.forEngine(.posix, model: "/m.json") }
        #expect(try SimulationModelFile.forEngine(.posix, model: nil) == nil)
        #expect(throws: BenchError.self) { try SimulationModelFile.forEngine(.sim, model: "/nonexistent/m.json") }
    }
}
