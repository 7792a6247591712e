// SafeTensorsHeader+Encoding: the header JSON of a file written, produced by Foundation's
// `JSONEncoder` (keys sorted, so that equal headers give equal bytes; all escaping is its own).

import Foundation

extension SafeTensorsHeader: Encodable {
    /// `{"__metadata__": {...}, name: {"data_offsets": [b, e], "dtype": "F32", "shape": [...]}, ...}`;
    /// `__metadata__` only if there is metadata.
    func encode(to encoder: Encoder) throws {
        var object = encoder.container(keyedBy: AnyKey.self)
        if !metadata.isEmpty { try object.encode(metadata, forKey: AnyKey(stringValue: Self.metadataKey)) }
        for e in entries.values {
            let offsets = [e.range.lowerBound, e.range.upperBound]
            let json = JSONEntry(dtype: e.dtype.rawValue, shape: e.shape, data_offsets: offsets)
            try object.encode(json, forKey: AnyKey(stringValue: e.name))
        }
    }

    /// The header as compact UTF-8 JSON with sorted keys, framed (`frame(_:)`): the bytes that
    /// precede the data section.
    func framedJSON() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Self.frame(try encoder.encode(self))
    }
}
