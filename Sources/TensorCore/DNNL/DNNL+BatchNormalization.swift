// Batch normalization primitives: forward (batch or given statistics) and backward, with an
// optional fused ReLU.

import CDNNL

/// Batch normalization over (N, H, W) of data [N, C, H, W], per channel c:
///
///     y = gamma_c * (x - mu_c) / sqrt(var_c + eps) + beta_c
///
/// with the batch mean and biased variance (training) or given ones (`useGlobalStatistics`), and
/// y = max(0, y) with `fuseReLU`. mean, variance, scale (gamma) and shift (beta) are [C].
public struct BatchNormalizationDescriptor: Sendable {
    /// oneDNN's normalization flags.
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Read mean and variance (`Arg.mean`, `Arg.variance`) instead of computing them.
        public static let useGlobalStatistics = Flags(rawValue: dnnl_use_global_stats.rawValue)
        /// Multiply by gamma (`Arg.scale`).
        public static let useScale = Flags(rawValue: dnnl_use_scale.rawValue)
        /// Add beta (`Arg.shift`).
        public static let useShift = Flags(rawValue: dnnl_use_shift.rawValue)
        /// Apply ReLU to y; training saves its mask in a workspace (`Primitive.workspaceDesc`).
        public static let fuseReLU = Flags(rawValue: dnnl_fuse_norm_relu.rawValue)
    }

    /// The layout of x (y takes the same one).
    public var data: MemoryDesc
    public var epsilon: Float
    public var flags: Flags

    public init(data: MemoryDesc, epsilon: Float, flags: Flags) {
        self.data = data
        self.epsilon = epsilon
        self.flags = flags
    }

    /// The forward primitive. Bind `Arg.src`, `Arg.dst`, `Arg.mean`, `Arg.variance` (written in
    /// training, read with `useGlobalStatistics`), `Arg.scale`, `Arg.shift`, and in training the
    /// workspace of `fuseReLU` as `Arg.workspace`.
    public func forward(_ kind: ForwardKind, name: String) throws -> Primitive {
        var d = data.raw
        let (eps, f) = (epsilon, flags.rawValue)
        return try Primitive(name, dnnl_batch_normalization_desc_t.self, initCall: "dnnl_batch_normalization_forward_desc_init") {
            dnnl_batch_normalization_forward_desc_init($0, kind.raw, &d, eps, f)
        }
    }

    /// The backward primitive for the training forward `hint`: dL/dx and (with `useScale`,
    /// `useShift`) dL/dgamma, dL/dbeta, with dL/dy in layout `diff`. Bind `Arg.src`, `Arg.mean`,
    /// `Arg.variance`, `Arg.diffDst`, `Arg.scale`, `Arg.shift`, `Arg.diffSrc`, `Arg.diffScale`,
    /// `Arg.diffShift` and the forward's workspace, if any.
    public func backward(diff: MemoryDesc, name: String, hint: Primitive) throws -> Primitive {
        var dd = diff.raw, d = data.raw
        let (eps, f) = (epsilon, flags.rawValue)
        return try Primitive(name, dnnl_batch_normalization_desc_t.self, initCall: "dnnl_batch_normalization_backward_desc_init",
                             hint: hint) {
            dnnl_batch_normalization_backward_desc_init($0, dnnl_backward, &dd, &d, eps, f)
        }
    }
}
