// The check that runs before a checkpoint is written: every weight, BatchNorm statistic and
// optimizer buffer must be finite. A loss can stay finite while a running variance or a momentum
// buffer has already become NaN or infinite; such a state must never replace a good checkpoint.
import Foundation

/// Finds non-finite values in named tensors.
public enum FiniteScan {
    /// The first tensor of `tensors` (in order) holding a NaN or an infinity, with that value.
    public static func firstNonFinite(_ tensors: [(name: String, tensor: Tensor)]) -> (name: String, value: Float)? {
        for (name, t) in tensors {
            let values = UnsafeBufferPointer(start: t.data, count: t.count)
            if let bad = values.first(where: { !$0.isFinite }) { return (name, bad) }
        }
        return nil
    }

    /// The model's parameters and buffers, then the optimizer's state (`optimizer.<key>`, sorted),
    /// the tensors a checkpoint holds.
    public static func checkpointTensors(model: SimCLRModel, optimizer: any Optimizer) -> [(name: String, tensor: Tensor)] {
        model.parameters.map { ($0.name, $0.value) } + model.buffers.map { ($0.name, $0.value) }
            + optimizer.state().sorted { $0.key < $1.key }.map { ("optimizer." + $0.key, $0.value) }
    }
}
