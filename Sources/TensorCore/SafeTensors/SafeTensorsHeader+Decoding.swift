// SafeTensorsHeader+Decoding: the header JSON of a file read, decoded with Foundation's
// `JSONDecoder` key by key so that a malformed entry is reported under its own name.

import Foundation

extension SafeTensorsHeader {
    /// Decodes the header `json` of the file `path`, whose data section holds `dataLength` bytes,
    /// and checks every entry and the layout of the data section (`+Validation.swift`).
    ///
    /// Entries are checked in name order, so that the first problem reported does not depend on
    /// hashing. A key that occurs twice in the JSON counts once (`JSONDecoder` keeps one
    /// occurrence); unless both occurrences are identical, the bytes of the other one then belong to
    /// no tensor and the tiling check refuses the file.
    init(decoding json: Data, path: String, dataLength: Int) throws {
        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: json)
        } catch {
            throw SafeTensorsError.invalidHeader(path: path, reason: Self.describe(error))
        }
        let metadata: [String: String]
        do {
            metadata = try raw.metadata.get()
        } catch {
            throw SafeTensorsError.invalidHeader(
                path: path, reason: "\(Self.metadataKey) must map strings to strings (\(Self.describe(error)))")
        }
        var entries: [String: SafeTensorsEntry] = [:]
        for (name, result) in raw.entries.sorted(by: { $0.name < $1.name }) {
            let entry: JSONEntry
            do { entry = try result.get() } catch {
                throw SafeTensorsError.invalidEntry(path: path, tensor: name, reason: Self.describe(error))
            }
            entries[name] = try Self.validated(entry, name: name, path: path)
        }
        try Self.checkTiling(Array(entries.values), dataLength: dataLength, path: path)
        self.init(entries: entries, metadata: metadata)
    }

    /// The header's object decoded key by key; each entry keeps its own decoding result.
    private struct RawHeader: Decodable {
        var entries: [(name: String, entry: Result<JSONEntry, Error>)] = []
        var metadata: Result<[String: String], Error> = .success([:])

        init(from decoder: Decoder) throws {
            let object = try decoder.container(keyedBy: AnyKey.self)
            for key in object.allKeys {
                if key.stringValue == SafeTensorsHeader.metadataKey {
                    metadata = Result { try object.decode([String: String].self, forKey: key) }
                } else {
                    entries.append((key.stringValue, Result { try object.decode(JSONEntry.self, forKey: key) }))
                }
            }
        }
    }

    /// A short description of a decoding error: what was wrong and at which key.
    static func describe(_ error: Error) -> String {
        guard let d = error as? DecodingError else { return SafeTensorsError.reason(error) }
        func at(_ c: DecodingError.Context) -> String {
            let keys = c.codingPath.map(\.stringValue).filter { !$0.isEmpty }
            return keys.isEmpty ? "" : " at \(keys.joined(separator: "."))"
        }
        switch d {
        case let .keyNotFound(key, c): return "missing key \"\(key.stringValue)\"\(at(c))"
        case let .typeMismatch(_, c): return "\(c.debugDescription)\(at(c))"
        case let .valueNotFound(_, c): return "\(c.debugDescription)\(at(c))"
        case let .dataCorrupted(c):
            let underlying = (c.underlyingError as NSError?)?.localizedDescription
            return "\(c.debugDescription)\(at(c))" + (underlying.map { " (\($0))" } ?? "")
        @unknown default: return "\(d)"
        }
    }
}
