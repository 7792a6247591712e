// The propagation kind of a forward primitive (oneDNN's dnnl_forward_training/inference).

import CDNNL

/// Whether a forward primitive is planned for training or for inference only.
///
/// Training forwards may save what their backward reads (e.g. the max-pool and fused-ReLU
/// workspaces); inference forwards do not.
public enum ForwardKind: Sendable {
    case training
    case inference

    /// `.training` when `training`, else `.inference`.
    public init(training: Bool) { self = training ? .training : .inference }

    var raw: dnnl_prop_kind_t {
        switch self {
        case .training: return dnnl_forward_training
        case .inference: return dnnl_forward_inference
        }
    }
}
