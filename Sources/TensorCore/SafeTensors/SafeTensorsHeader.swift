// SafeTensorsHeader: the JSON header of a safetensors file and its framing, the 8-byte
// little-endian length before it and the spaces after it that align the data section.

import Foundation

/// The header of a safetensors file: every tensor's entry and the `__metadata__` strings.
///
/// Framing: `[N: little-endian UInt64][N bytes: UTF-8 JSON, then spaces][data section]`. Written
/// headers are padded so that the data section starts at a multiple of `alignment` bytes.
/// Decoding and its checks: `SafeTensorsHeader+Decoding.swift`, `+Validation.swift`; the JSON
/// written: `+Encoding.swift`.
struct SafeTensorsHeader: Equatable {
    /// Every tensor, by name.
    var entries: [String: SafeTensorsEntry]
    /// The `__metadata__` strings (empty: the header has no `__metadata__` key).
    var metadata: [String: String]

    /// The JSON key of the metadata object (no tensor may have this name).
    static let metadataKey = "__metadata__"
    /// Bytes of the length prefix.
    static let prefixLength = 8
    /// A written file's data section starts at a multiple of this many bytes.
    static let alignment = 8
    /// The largest header accepted (the reference implementation's limit, 100 MiB).
    static let maximumLength: UInt64 = 100 << 20

    /// The JSON bytes of the header of the file `bytes` and the offset of its data section, after
    /// checking that the length prefix is there and that the header fits in the file.
    static func locate(in bytes: Data, path: String) throws -> (json: Data, dataStart: Int) {
        let size = bytes.count
        guard size >= prefixLength else { throw SafeTensorsError.tooShort(path: path, fileSize: size) }
        let length: UInt64 = bytes.withUnsafeBytes { raw in
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        }
        guard length <= maximumLength, length <= UInt64(size - prefixLength) else {
            throw SafeTensorsError.headerBeyondFile(path: path, headerLength: length, fileSize: size)
        }
        let dataStart = prefixLength + Int(length)
        return (bytes.subdata(in: bytes.startIndex + prefixLength..<bytes.startIndex + dataStart), dataStart)
    }

    /// `json` framed: its length (after padding) as a little-endian UInt64, then `json`, then
    /// spaces up to the next multiple of `alignment` bytes from the start of the file.
    static func frame(_ json: Data) -> [UInt8] {
        let padding = (alignment - (prefixLength + json.count) % alignment) % alignment
        let length = UInt64(json.count + padding)
        return withUnsafeBytes(of: length.littleEndian, Array.init) + json + Array(repeating: 0x20, count: padding)
    }

    /// One entry exactly as it appears in the JSON (`data_offsets` is the format's key).
    struct JSONEntry: Codable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }

    /// A JSON object key of any name.
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
