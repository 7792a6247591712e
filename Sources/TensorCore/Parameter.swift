// Parameter: a trainable tensor with its gradient and the facts an optimizer needs.
// Layers own their parameters; models list them (in a fixed, documented order) so that
// SGD, LARS and Adam are one loop over `[Parameter]`. BatchNorm running statistics are
// not parameters (they are saved state, see `Buffer`).

/// What a parameter is, for the optimizer's exclusions (LARS and weight decay skip BN and biases,
/// as the official SimCLR code does).
public enum ParameterRole: String, Sendable, Codable {
    case weight       // conv / linear weight
    case bias         // linear bias
    case normScale    // BatchNorm gamma
    case normShift    // BatchNorm beta

    /// True for biases and BatchNorm parameters: no weight decay, no LARS trust ratio.
    public var isExcludedFromDecayAndAdaptation: Bool { self != .weight }
}

public final class Parameter: @unchecked Sendable {
    /// The name under which the tensor is saved (torchvision state_dict naming, e.g. "layer1.0.conv1.weight").
    public var name: String
    public let role: ParameterRole
    /// Current value, in plain layout (OIHW for convolutions, [out, in] for linear).
    public let value: Tensor
    /// Gradient of the loss with respect to `value`; written (not accumulated) by each backward pass.
    public let grad: Tensor

    public init(name: String, role: ParameterRole, value: Tensor) {
        self.name = name
        self.role = role
        self.value = value
        self.grad = Tensor(shape: value.shape)
    }

    public var shape: [Int] { value.shape }
}

/// Non-trainable saved state (BatchNorm running mean / variance / num_batches_tracked).
public final class Buffer: @unchecked Sendable {
    public var name: String
    public let value: Tensor
    /// Stored as int64 in safetensors (PyTorch's `num_batches_tracked`).
    public let isInteger: Bool

    public init(name: String, value: Tensor, isInteger: Bool = false) {
        self.name = name
        self.value = value
        self.isInteger = isInteger
    }
}
