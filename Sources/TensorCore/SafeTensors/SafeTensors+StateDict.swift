// SafeTensors+StateDict: a model's state as named tensors. Parameters and buffers are saved under
// their own names (torchvision `state_dict` naming) and loaded back strictly, all or nothing,
// with every mismatch named before anything is copied.

import Foundation

extension SafeTensors {
    /// The records of a model's state: parameters and non-integer buffers as F32, integer buffers
    /// (`num_batches_tracked`) as I64, `extra` tensors as F32, each under its own name.
    public static func records(parameters: [Parameter], buffers: [Buffer], extra: [String: Tensor] = [:]) -> [Record] {
        parameters.map { Record(name: $0.name, tensor: $0.value) }
            + buffers.map { Record(name: $0.name, tensor: $0.value, dtype: $0.isInteger ? .i64 : .f32) }
            + extra.keys.sorted().map { Record(name: $0, tensor: extra[$0]!) }
    }

    /// Saves a model's state to `url` atomically: keys are `Parameter.name` / `Buffer.name`
    /// (torchvision state_dict naming), `Buffer.isInteger` buffers as I64, the rest F32.
    /// Throws if two tensors share a name or an integer buffer holds a non-integer.
    public static func save(
        parameters: [Parameter], buffers: [Buffer], extra: [String: Tensor] = [:],
        metadata: [String: String], to url: URL
    ) throws {
        try write(records(parameters: parameters, buffers: buffers, extra: extra), metadata: metadata, to: url)
    }

    /// Loads a model's state from `url` into the `value` tensors, in place; see
    /// `load(into:buffers:extra:from:prefix:strict:excluding:)` taking a `SafeTensorsFile`.
    public static func load(
        into parameters: [Parameter], buffers: [Buffer], extra: [String: Tensor] = [:], from url: URL,
        prefix: String = "", strict: Bool = true, excluding excludedPrefixes: [String] = []
    ) throws {
        let file = try SafeTensorsFile(contentsOf: url)
        try load(
            into: parameters, buffers: buffers, extra: extra, from: file, prefix: prefix, strict: strict,
            excluding: excludedPrefixes)
    }

    /// Loads a model's state from a parsed file into the `value` tensors, in place, all or nothing.
    ///
    /// Keys: a tensor named `n` is looked up as `n` if `n` already starts with `prefix`, else as
    /// `prefix + n` (so a head whose parameters are named `0.weight` or `head.0.weight` both load
    /// from `head.0.weight` with `prefix: "head."`). Only file tensors whose key starts with
    /// `prefix` and with none of `excludedPrefixes` take part; e.g. evaluation loads the encoder
    /// from a full pretraining file with `excluding: ["head."]`.
    ///
    /// Refused, naming the tensor and the expected vs found value, before anything is copied:
    /// a missing tensor (always), a wrong shape, a wrong dtype (F32 for parameters, non-integer
    /// buffers and `extra`; I64 for integer buffers), and with `strict` a file tensor that the
    /// model does not expect (as PyTorch's `load_state_dict(strict=True)`).
    public static func load(
        into parameters: [Parameter], buffers: [Buffer], extra: [String: Tensor] = [:], from file: SafeTensorsFile,
        prefix: String = "", strict: Bool = true, excluding excludedPrefixes: [String] = []
    ) throws {
        func key(_ name: String) -> String { name.hasPrefix(prefix) ? name : prefix + name }
        var targets: [(key: String, tensor: Tensor, dtype: SafeTensorsDType)] = []
        targets += parameters.map { (key($0.name), $0.value, .f32) }
        targets += buffers.map { (key($0.name), $0.value, $0.isInteger ? .i64 : .f32) }
        targets += extra.keys.sorted().map { (key($0), extra[$0]!, .f32) }

        var wanted = Set<String>()
        for t in targets where !wanted.insert(t.key).inserted {
            throw SafeTensorsError.duplicateName(path: file.path, tensor: t.key)
        }

        let missing = targets.filter { file.entries[$0.key] == nil }
        if !missing.isEmpty {
            throw SafeTensorsError.missingTensors(
                path: file.path, names: missing.map(\.key), expected: missing.map { "\($0.dtype) \($0.tensor.shape)" })
        }
        for t in targets {
            let e = file.entries[t.key]!
            if e.dtype != t.dtype {
                throw SafeTensorsError.dtypeMismatch(
                    path: file.path, tensor: t.key, expected: t.dtype.rawValue, found: e.dtype.rawValue)
            }
            if e.shape != t.tensor.shape {
                throw SafeTensorsError.shapeMismatch(path: file.path, tensor: t.key, expected: t.tensor.shape, found: e.shape)
            }
        }
        if strict {
            let unexpected = file.names.filter { name in
                name.hasPrefix(prefix) && !wanted.contains(name) && !excludedPrefixes.contains { name.hasPrefix($0) }
            }
            if !unexpected.isEmpty { throw SafeTensorsError.unexpectedTensors(path: file.path, names: unexpected) }
        }
        for t in targets { try file.read(t.key, into: t.tensor) }
    }
}
