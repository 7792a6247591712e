// `simclr bench step`: one full SimCLR training step (forward of 2B images, NT-Xent, backward,
// SGD update) on random input, timed, with the same JSON fields as the PyTorch reference
// (../shared/bench/torch_simclr_step.py) so the two can be compared side by side.

import Foundation
import NN
import Optim
import SimCLR
import TensorCore

struct StepBenchmark {
    var depth: ResNetConfig.Depth = .resnet18
    var stem: ResNetConfig.Stem = .cifar
    var width: Double = 1.0
    var batch: Int = 256
    var imageSize: Int = 32
    var steps: Int = 10
    var warmup: Int = 2
    var threads: Int = 0
    var temperature: Float = 0.5
    var seed: UInt64 = 0
    var convolutionAlgorithm: ConvolutionAlgorithm = .auto

    init() {}

    /// Runs the benchmark and returns the JSON fields (ordered like the reference's).
    func run(progress: ((Int, Int) -> Void)? = nil) throws -> [(String, Any)] {
        ComputeThreads.set(threads)
        let rssStart = peakRSSMiB()
        let residentAtStart = MemoryBudget.residentBytes()
        let model = SimCLRModel(encoder: ResNetConfig(depth: depth, stem: stem, width: width),
                                head: ProjectionHeadConfig(), seed: seed)
        model.encoder.convolutionAlgorithm = convolutionAlgorithm
        let loss = try NTXentLoss(temperature: temperature, views: 2)
        let lr = 0.3 * Float(batch) / 256
        let optimizer = try SGD(parameters: model.parameters, momentum: 0.9, weightDecay: 1e-6)
        var estimate = try MemoryEstimate.step(model: model, batch: batch, views: 2, imageSize: imageSize, optimizerBuffers: 1,
                                               checkpointing: false)
        estimate.process = residentAtStart
        estimate.batches = 2 * batch * 3 * imageSize * imageSize * MemoryLayout<Float>.stride  // x
        var rng = RandomState(seed: seed &+ 1)
        let x = Tensor(shape: [2 * batch, 3, imageSize, imageSize])
        for i in 0..<x.count { x[i] = rng.normal() }
        var dz: Tensor?
        func step() throws -> Float {
            let z = try model.forward(x, training: true)
            if dz == nil || dz!.shape != z.shape { dz = Tensor(shape: z.shape) }
            let result = try loss(z, gradient: dz!)
            model.backward(dz!)
            optimizer.step(learningRate: lr)
            return result.loss
        }
        var firstLoss: Float = .nan
        for i in 0..<warmup {
            let l = try step()
            if i == 0 { firstLoss = l }
            progress?(i + 1, warmup + steps)
        }
        var times: [Double] = []
        var lastLoss: Float = .nan
        for i in 0..<steps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            lastLoss = try step()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            if firstLoss.isNaN { firstLoss = lastLoss }
            progress?(warmup + i + 1, warmup + steps)
        }
        let sorted = times.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        let images = 2 * batch
        let fwdFlops = model.encoder.forwardFlops(height: imageSize, width: imageSize) + model.head.forwardFlops
        let pass = try model.encoder.compiled(batch: images, height: imageSize, width: imageSize, training: true)
        func r1(_ v: Double) -> Double { (v * 10).rounded() / 10 }
        return [
            ("impl", "swift-simclr"), ("onednn", DNNLContext.version), ("isa", DNNLContext.isa),
            ("batch", batch), ("images_per_step", images), ("width", width), ("threads", ComputeThreads.current),
            ("warmup", warmup), ("steps", steps),
            ("params", model.parameters.reduce(0) { $0 + $1.value.count }),
            ("fwd_gflops_per_image", (fwdFlops / 1e9 * 1e4).rounded() / 1e4),
            ("ms_per_step", r1(median * 1e3)), ("ms_per_step_min", r1(sorted.first! * 1e3)),
            ("ms_per_step_max", r1(sorted.last! * 1e3)),
            ("images_per_s", r1(Double(images) / median)), ("images_per_s_min", r1(Double(images) / sorted.last!)),
            ("images_per_s_max", r1(Double(images) / sorted.first!)),
            ("achieved_gflops_per_s", r1(3 * fwdFlops * Double(images) / median / 1e9)),
            ("peak_rss_mib", r1(peakRSSMiB())), ("estimated_peak_mib", r1(Double(estimate.total) / 1_048_576)),
            ("rss_at_start_mib", r1(rssStart)),
            ("planned_memory_mib", r1(Double(pass.memoryBytes) / 1_048_576)), ("pool_mib", r1(Double(pass.poolBytes) / 1_048_576)),
            ("pool_peak_live", pass.peakLivePoolMemories),
            ("primitives_per_step", pass.primitiveCount),
            ("conv_algorithm", convolutionAlgorithm.rawValue), ("winograd_primitives", pass.winogradPrimitives),
            ("largest_scratchpad_mib", r1(Double(pass.largestScratchpad) / 1_048_576)),
            ("loss_first", Double(firstLoss)), ("loss_last", Double(lastLoss)),
        ]
    }
}

/// Peak resident set size of this program in MiB: VmHWM, else ru_maxrss (in KiB on Linux; it
/// includes the parent's peak when this process was spawned by a larger one).
func peakRSSMiB() -> Double {
    if let bytes = MemoryBudget.peakResidentBytes() { return Double(bytes) / 1_048_576 }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// Renders ordered fields as one JSON object line.
func jsonLine(_ fields: [(String, Any)]) -> String {
    let parts = fields.map { key, value -> String in
        let v: String
        switch value {
        case let s as String: v = "\"\(s)\""
        case let d as Double: v = d.isFinite ? "\(d)" : "null"
        case let f as Float: v = f.isFinite ? "\(f)" : "null"
        default: v = "\(value)"
        }
        return "\"\(key)\": \(v)"
    }
    return "{" + parts.joined(separator: ", ") + "}"
}
