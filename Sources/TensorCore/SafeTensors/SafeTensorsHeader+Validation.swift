// SafeTensorsHeader+Validation: the checks every entry of a header read must pass, and the rule
// that the tensors tile the data section exactly (as the reference implementation requires).

extension SafeTensorsHeader {
    /// `raw`, the entry `name`, checked: a known dtype, no negative dimension, offsets
    /// `[begin, end]` with `0 <= begin <= end`, and `end - begin = product(shape) x dtype size`
    /// (computed without overflow).
    static func validated(_ raw: JSONEntry, name: String, path: String) throws -> SafeTensorsEntry {
        func bad(_ reason: String) -> SafeTensorsError { .invalidEntry(path: path, tensor: name, reason: reason) }
        guard let dtype = SafeTensorsDType(rawValue: raw.dtype) else {
            let known = SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            throw bad("unsupported dtype \"\(raw.dtype)\" (expected one of \(known))")
        }
        guard raw.shape.allSatisfy({ $0 >= 0 }) else { throw bad("negative dimension in shape \(raw.shape)") }
        guard raw.data_offsets.count == 2 else {
            throw bad("data_offsets \(raw.data_offsets) must be two numbers [begin, end]")
        }
        let begin = raw.data_offsets[0], end = raw.data_offsets[1]
        guard begin >= 0, end >= begin else {
            throw bad("data_offsets [\(begin), \(end)] must satisfy 0 <= begin <= end")
        }
        guard let bytes = byteCount(dtype, raw.shape) else { throw bad("shape \(raw.shape) is too large") }
        guard end - begin == bytes else {
            throw bad("data_offsets [\(begin), \(end)] span \(end - begin) bytes but \(dtype) \(raw.shape) needs \(bytes)")
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: raw.shape, range: begin..<end)
    }

    /// Bytes of a `dtype` tensor of `shape`: product(shape) x dtype size, or nil on overflow.
    static func byteCount(_ dtype: SafeTensorsDType, _ shape: [Int]) -> Int? {
        checkedProduct([dtype.byteSize] + shape)
    }

    /// Checks that `entries` tile a data section of `dataLength` bytes exactly: sorted by offset,
    /// each tensor starts where the previous one ends (no overlap, no hole), none ends beyond the
    /// data section, and the last one ends at its end (no trailing bytes).
    static func checkTiling(_ entries: [SafeTensorsEntry], dataLength: Int, path: String) throws {
        let ordered = entries.sorted {
            ($0.range.lowerBound, $0.range.upperBound, $0.name) < ($1.range.lowerBound, $1.range.upperBound, $1.name)
        }
        if let beyond = ordered.first(where: { $0.range.upperBound > dataLength }) {
            throw SafeTensorsError.truncated(
                path: path, tensor: beyond.name, neededBytes: beyond.range.upperBound, availableBytes: dataLength)
        }
        var cursor = 0
        var previous: String?
        for e in ordered {
            let offsets = "data_offsets [\(e.range.lowerBound), \(e.range.upperBound)]"
            if e.range.lowerBound < cursor {
                throw SafeTensorsError.invalidEntry(
                    path: path, tensor: e.name,
                    reason: "\(offsets) overlap tensor '\(previous ?? "")' (which ends at \(cursor))")
            }
            if e.range.lowerBound > cursor {
                throw SafeTensorsError.invalidEntry(
                    path: path, tensor: e.name,
                    reason: "\(offsets) leave bytes \(cursor)..<\(e.range.lowerBound) that belong to no tensor")
            }
            cursor = e.range.upperBound
            previous = e.name
        }
        if cursor < dataLength { throw SafeTensorsError.trailingBytes(path: path, count: dataLength - cursor) }
    }
}
