// SafeTensors+Layout: where the writer puts each record: the checks records must pass, the data
// order (I64 first, then F32, each by name), the framed header, and the bytes emitted in order.

extension SafeTensors {
    /// A checked file layout: the framed header and the records in data order.
    struct Layout {
        /// Length prefix and padded JSON header.
        var prefix: [UInt8]
        /// Records in data order (larger elements first, then by name), so that each tensor is
        /// aligned to its element size.
        var records: [Record]
        /// Bytes of the data section.
        var dataSize: Int
        var fileSize: Int { prefix.count + dataSize }

        /// Elements converted per chunk when a dtype cannot be written straight from storage.
        static let chunk = 8192

        init(_ records: [Record], metadata: [String: String], path: String) throws {
            try Self.check(records, path: path)
            self.records = records.sorted { ($0.dtype.byteSize, $1.name) > ($1.dtype.byteSize, $0.name) }
            var entries: [String: SafeTensorsEntry] = [:]
            var offset = 0
            for r in self.records {
                let n = r.tensor.count * r.dtype.byteSize
                entries[r.name] = SafeTensorsEntry(
                    name: r.name, dtype: r.dtype, shape: r.tensor.shape, range: offset..<offset + n)
                offset += n
            }
            dataSize = offset
            prefix = try SafeTensorsHeader(entries: entries, metadata: metadata).framedJSON()
        }

        /// Refuses duplicate or reserved names, dtypes this writer does not produce, and values of
        /// I64 records that are not whole numbers within the I64 range.
        static func check(_ records: [Record], path: String) throws {
            var seen = Set<String>()
            for r in records {
                guard seen.insert(r.name).inserted else {
                    throw SafeTensorsError.duplicateName(path: path, tensor: r.name)
                }
                guard r.name != SafeTensorsHeader.metadataKey else {
                    throw SafeTensorsError.invalidEntry(
                        path: path, tensor: r.name, reason: "the name is reserved for the header's metadata")
                }
                guard r.dtype.isWritable else {
                    throw SafeTensorsError.unsupportedWriteDType(path: path, tensor: r.name, dtype: r.dtype.rawValue)
                }
                if r.dtype == .i64 {
                    for i in 0..<r.tensor.count {
                        let v = r.tensor.data[i]
                        guard v.isFinite, v.rounded() == v, abs(v) < 9.2e18 else {
                            throw SafeTensorsError.notAnInteger(path: path, tensor: r.name, index: i, value: v)
                        }
                    }
                }
            }
        }

        /// Hands the file's bytes, in order, to `sink` in chunks: the header, then each tensor's
        /// storage directly (F32 on little-endian hosts) or through a small conversion buffer.
        func emit(_ sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
            try prefix.withUnsafeBytes { try sink($0) }
            var scratch = [UInt64](repeating: 0, count: Self.chunk)
            for r in records {
                let src = r.tensor.data
                let n = r.tensor.count
                #if _endian(little)
                    if r.dtype == .f32 {
                        try sink(UnsafeRawBufferPointer(start: src, count: 4 * n))
                        continue
                    }
                #endif
                for start in stride(from: 0, to: n, by: Self.chunk) {
                    let m = min(Self.chunk, n - start)
                    try scratch.withUnsafeMutableBytes { raw in
                        r.dtype.encode(src + start, count: m, into: raw.baseAddress!)
                        try sink(UnsafeRawBufferPointer(rebasing: raw.prefix(m * r.dtype.byteSize)))
                    }
                }
            }
        }
    }
}
