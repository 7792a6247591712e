// SafeTensorsDType: the element types of the safetensors format that swift-simclr understands.

/// Element types of the safetensors format that swift-simclr understands.
///
/// Written: `F32` (parameters, running statistics) and `I64` (`num_batches_tracked`).
/// Read: all of them, converted to `Float` on request (see `SafeTensorsDType+Conversion.swift`).
public enum SafeTensorsDType: String, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = "F32"
    case f64 = "F64"
    case f16 = "F16"
    case bf16 = "BF16"
    case i64 = "I64"
    case i32 = "I32"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f32, .i32: return 4
        case .f64, .i64: return 8
        case .f16, .bf16: return 2
        }
    }

    /// True for the types this writer produces (`F32`, `I64`).
    var isWritable: Bool { self == .f32 || self == .i64 }

    public var description: String { rawValue }
}
