// SafeTensors+Writer: writing named tensors as a safetensors file, in memory (`encode`) or
// streamed to disk atomically (`write`). The layout rules are in `SafeTensors+Layout.swift`.

import Foundation

extension SafeTensors {
    /// A tensor to write: its name, values, and stored dtype (`.f32`, or `.i64` for whole numbers).
    public struct Record {
        public var name: String
        public var tensor: Tensor
        public var dtype: SafeTensorsDType
        public init(name: String, tensor: Tensor, dtype: SafeTensorsDType = .f32) {
            self.name = name
            self.tensor = tensor
            self.dtype = dtype
        }
    }

    /// The bytes of a safetensors file holding `records` and `metadata`.
    ///
    /// Header keys are sorted by name; data is laid out I64 first, then F32 (each by name), so
    /// that every tensor is aligned to its element size; the header is padded with spaces to a
    /// multiple of 8 bytes. `path` only names the destination in errors.
    public static func encode(_ records: [Record], metadata: [String: String] = [:], path: String = "<memory>")
        throws -> Data
    {
        let layout = try Layout(records, metadata: metadata, path: path)
        var out = Data(capacity: layout.fileSize)
        layout.emit { out.append(contentsOf: $0) }
        return out
    }

    /// The size in bytes of the file `encode` or `write` makes of `records` and `metadata`.
    public static func fileSize(_ records: [Record], metadata: [String: String] = [:]) throws -> Int {
        try Layout(records, metadata: metadata, path: "<memory>").fileSize
    }

    /// Writes `records` and `metadata` to `url` atomically (see `AtomicFile`), streaming each
    /// tensor's storage to the file without an intermediate copy of the whole file.
    public static func write(_ records: [Record], metadata: [String: String] = [:], to url: URL) throws {
        let layout = try Layout(records, metadata: metadata, path: url.path)
        try AtomicFile.write(to: url) { sink in try layout.emit { try sink.write($0) } }
    }
}
