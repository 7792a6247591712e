// The memory of a SimCLR model's training step, without allocating it: the encoder's compiled
// pass (from a measuring plan), the projection head's per-batch buffers, and the parameters with
// their gradients.
import Foundation
import TensorCore

extension ResNet {
    /// The memory the compiled pass for [batch, 3, height, width] would hold (nothing is allocated).
    public func plannedMemory(batch: Int, height: Int, width: Int, training: Bool) throws -> PlannedMemory {
        try network.plannedMemory(inputShape: [batch, 3, height, width], training: training)
    }
}

extension ProjectionHead {
    /// Bytes of the buffers a training forward and backward of `rows` rows keep (`Dense.swift`):
    /// Linear: output [N, out] and input gradient [N, in]; ReLU: output and input gradient
    /// [N, d]; BatchNorm1d: output, normalised input and input gradient [N, d].
    public func trainingBufferBytes(rows: Int) -> Int {
        var floats = 0
        var width = inputDim
        for layer in layers {
            switch layer {
            case let l as Linear:
                floats += rows * (l.outputCount + l.inputCount)
                width = l.outputCount
            case is BatchNorm1d: floats += 3 * rows * width
            default: floats += 2 * rows * width
            }
        }
        return floats * MemoryLayout<Float>.stride
    }
}

extension SimCLRModel {
    /// Bytes of the parameters and their gradients (running statistics included).
    public var parameterBytes: Int {
        let values = parameters.reduce(0) { $0 + 2 * $1.value.count } + buffers.reduce(0) { $0 + $1.value.count }
        return values * MemoryLayout<Float>.stride
    }
}
