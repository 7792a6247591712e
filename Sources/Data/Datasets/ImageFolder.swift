// Image folders in torchvision's ImageFolder layout: one sub-folder per class (searched
// recursively, classes in sorted order), or a flat folder of images for unlabeled data.
// PNG and JPEG files (by extension) are decoded once, in parallel, to RGB8; corrupt files are
// skipped and counted (`.skip`, the default) or stop the run naming the file (`.fail`).
//
// With a cache folder, the decoded pixels go to one compact file keyed by an MD5 of the
// folder's absolute path and listing (relative paths, sizes, modification times), which later
// runs memory-map instead of decoding again; the image folder itself is only read. Cache layout:
// "SIMCLRIF" | pixel bytes | JSON index | UInt64 LE index size | "SIMCLRIF". Without a cache
// folder the pixels are kept in memory.
import Foundation

/// A labelled (class sub-folders) or unlabeled (flat) folder of PNG/JPEG images of any size.
public struct ImageFolderDataset: ImageDataset {
    /// What to do with an image that cannot be decoded.
    public enum BadImagePolicy: String, Sendable, CaseIterable, Codable {
        /// Leave it out and count it (`skippedFiles`).
        case skip
        /// Stop with an error naming the file.
        case fail
    }

    /// One decoded image's place in the pixel store.
    struct Entry: Codable, Sendable {
        var path: String  // relative to the root
        var label: Int  // -1 when unlabeled
        var width: Int
        var height: Int
        var offset: Int  // into the pixel store
    }

    struct CacheIndex: Codable {
        var key: String
        var classNames: [String]
        var entries: [Entry]
        var skipped: [String]
    }

    private enum Store: @unchecked Sendable {
        case memory([UInt8])
        case mapped(MappedFile)
    }

    public let name: String
    public let classNames: [String]
    /// The folder read.
    public let directory: URL
    /// Relative paths of images that failed to decode and were skipped.
    public let skippedFiles: [String]
    /// The cache file used (read or written), if any.
    public let cacheFile: URL?
    /// True when the pixels came from an existing cache file rather than from decoding.
    public let loadedFromCache: Bool
    private let entries: [Entry]
    private let store: Store

    public var count: Int { entries.count }

    /// The relative path of image `index` inside the folder.
    public func path(at index: Int) -> String { entries[index].path }

    /// Scans and decodes `directory`.
    ///
    /// - Parameters:
    ///   - onBadImage: `.skip` corrupt images (counted in `skippedFiles`) or `.fail` on the first.
    ///   - cacheDirectory: where to keep (and look for) the decoded-pixel cache; nil keeps pixels in memory.
    ///   - showProgress: show a progress bar while decoding.
    public init(directory: URL, onBadImage: BadImagePolicy = .skip, cacheDirectory: URL? = nil,
                showProgress: Bool = false) throws {
        self.directory = directory
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDir) else {
            throw DatasetError.missingFile(path: directory.path, expected: "a folder of images, or of one sub-folder per class")
        }
        guard isDir.boolValue else {
            throw DatasetError.invalidOption(name: "image folder", value: directory.path, expected: "a folder, not a file")
        }
        let top = try ImageFolderDataset.listFolder(directory)
        guard !top.isEmpty else { throw DatasetError.emptyFolder(path: directory.path) }

        // Class sub-folders, or a flat folder.
        let subfolders = ImageFolderDataset.classFolders(top)
        var listing: [(path: String, label: Int, size: Int, mtime: Double)] = []
        if subfolders.isEmpty {
            for item in top where !item.isDirectory && ImageFormat(pathExtension: (item.name as NSString).pathExtension) != nil {
                listing.append((item.name, -1, item.size, item.mtime))
            }
            classNames = []
        } else {
            for (label, sub) in subfolders.enumerated() {
                for rel in try ImageFolderDataset.imagesRecursively(directory.appendingPathComponent(sub), prefix: sub) {
                    listing.append((rel.path, label, rel.size, rel.mtime))
                }
            }
            classNames = subfolders
        }
        guard !listing.isEmpty else { throw DatasetError.noImages(path: directory.path) }
        listing.sort { ($0.label, $0.path) < ($1.label, $1.path) }
        name = "folder/\(directory.lastPathComponent)"

        // The cache key covers the folder, every file's identity and the policy.
        var md5 = MD5()
        md5.update(Array("v1|\(directory.standardizedFileURL.path)|\(onBadImage.rawValue)|\(classNames.joined(separator: "/"))\n".utf8))
        for item in listing { md5.update(Array("\(item.path)|\(item.label)|\(item.size)|\(item.mtime)\n".utf8)) }
        let key = md5.hexDigest()

        let progressLabel = showProgress ? "decode \(directory.lastPathComponent)" : nil
        if let cacheDirectory {
            let url = cacheDirectory.appendingPathComponent("imagefolder-\(key).cache")
            cacheFile = url
            if let (index, map) = ImageFolderDataset.openCache(url, key: key) {
                entries = index.entries
                skippedFiles = index.skipped
                store = .mapped(map)
                loadedFromCache = true
                return
            }
            do {
                try fm.createDirectory(at: cacheDirectory, withIntermediateDirectories: true)
            } catch {
                throw DatasetError.unreadable(path: cacheDirectory.path, reason: "cannot create the image cache folder: \(error.localizedDescription); pass --cache-dir DIR or set SIMCLR_CACHE to a writable folder")
            }
            let tmp = cacheDirectory.appendingPathComponent(".imagefolder-\(key)-\(UUID().uuidString).partial")
            guard fm.createFile(atPath: tmp.path, contents: nil), let handle = FileHandle(forWritingAtPath: tmp.path) else {
                throw DatasetError.unreadable(path: tmp.path, reason: "cannot write the image cache here; pass --cache-dir DIR or set SIMCLR_CACHE to a writable folder")
            }
            var ok = false
            defer {
                try? handle.close()
                if !ok { try? fm.removeItem(at: tmp) }
            }
            let magic = Array("SIMCLRIF".utf8)
            try handle.write(contentsOf: magic)
            var written = magic.count
            let (decoded, skipped) = try ImageFolderDataset.decodeAll(
                root: directory, listing: listing.map { ($0.path, $0.label) }, policy: onBadImage, startOffset: written, progressLabel: progressLabel
            ) { bytes in
                try handle.write(contentsOf: bytes)
                written += bytes.count
            }
            let index = CacheIndex(key: key, classNames: classNames, entries: decoded, skipped: skipped)
            let json = try JSONEncoder().encode(index)
            try handle.write(contentsOf: json)
            var size = UInt64(json.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &size, count: 8))
            try handle.write(contentsOf: magic)
            try handle.close()
            if fm.fileExists(atPath: url.path) { try? fm.removeItem(at: url) }
            do {
                try fm.moveItem(at: tmp, to: url)
            } catch {
                throw DatasetError.unreadable(path: url.path, reason: "cannot move the finished image cache into place: \(error.localizedDescription)")
            }
            ok = true
            guard let (reopened, map) = ImageFolderDataset.openCache(url, key: key) else {
                throw DatasetError.malformed(path: url.path, expected: "the image cache just written")
            }
            entries = reopened.entries
            skippedFiles = reopened.skipped
            store = .mapped(map)
            loadedFromCache = false
        } else {
            cacheFile = nil
            var pixels: [UInt8] = []
            let (decoded, skipped) = try ImageFolderDataset.decodeAll(
                root: directory, listing: listing.map { ($0.path, $0.label) }, policy: onBadImage, startOffset: 0, progressLabel: progressLabel
            ) { pixels.append(contentsOf: $0) }
            entries = decoded
            skippedFiles = skipped
            store = .memory(pixels)
            loadedFromCache = false
        }
        if entries.isEmpty {
            throw DatasetError.badImage(path: directory.path, reason: "all \(skippedFiles.count) images failed to decode")
        }
    }

    public func label(at index: Int) -> Int? {
        precondition(index >= 0 && index < count, "image folder index \(index) out of 0..<\(count)")
        let l = entries[index].label
        return l < 0 ? nil : l
    }

    public func image(at index: Int) throws -> RGBImage {
        precondition(index >= 0 && index < count, "image folder index \(index) out of 0..<\(count)")
        let e = entries[index]
        let n = e.width * e.height * 3
        let pixels: [UInt8]
        switch store {
        case .memory(let bytes):
            pixels = Array(bytes[e.offset..<(e.offset + n)])
        case .mapped(let map):
            pixels = Array(UnsafeRawBufferPointer(rebasing: map.bytes[e.offset..<(e.offset + n)]))
        }
        return RGBImage(width: e.width, height: e.height, pixels: pixels)
    }

    // MARK: Listing

    struct Item { var name: String; var isDirectory: Bool; var size: Int; var mtime: Double }

    /// The class names of a folder listing: its sub-folders, sorted (empty: a flat, unlabeled folder).
    static func classFolders(_ items: [Item]) -> [String] { items.filter(\.isDirectory).map(\.name).sorted() }

    /// The class names `init` would find in `directory`, from its listing alone (nothing decoded).
    public static func classNames(in directory: URL) throws -> [String] { classFolders(try listFolder(directory)) }

    /// Non-hidden entries of a folder, with errors naming the folder.
    static func listFolder(_ url: URL) throws -> [Item] {
        let fm = FileManager.default
        let names: [String]
        do {
            names = try fm.contentsOfDirectory(atPath: url.path)
        } catch {
            throw DatasetError.unreadable(path: url.path, reason: fm.isReadableFile(atPath: url.path)
                                          ? error.localizedDescription : "permission denied")
        }
        var items: [Item] = []
        for name in names where !name.hasPrefix(".") {
            let path = url.appendingPathComponent(name).path
            guard let attrs = try? fm.attributesOfItem(atPath: path) else { continue }
            var type = attrs[.type] as? FileAttributeType
            if type == .typeSymbolicLink {
                var isDir: ObjCBool = false
                guard fm.fileExists(atPath: path, isDirectory: &isDir) else { continue }  // dangling link
                type = isDir.boolValue ? .typeDirectory : .typeRegular
            }
            let size = (attrs[.size] as? NSNumber)?.intValue ?? 0
            let mtime = (attrs[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            items.append(Item(name: name, isDirectory: type == .typeDirectory, size: size, mtime: mtime))
        }
        return items
    }

    /// Image files below `url`, as paths relative to the dataset root.
    static func imagesRecursively(_ url: URL, prefix: String) throws -> [(path: String, size: Int, mtime: Double)] {
        var out: [(String, Int, Double)] = []
        for item in try listFolder(url) {
            let rel = prefix + "/" + item.name
            if item.isDirectory {
                out += try imagesRecursively(url.appendingPathComponent(item.name), prefix: rel)
            } else if ImageFormat(pathExtension: (item.name as NSString).pathExtension) != nil {
                out.append((rel, item.size, item.mtime))
            }
        }
        return out
    }

    // MARK: Decoding

    /// Decodes every listed image in parallel, in chunks, handing each chunk's pixels to `sink`
    /// in listing order. Returns the entries (offsets start at `startOffset`) and skipped paths.
    static func decodeAll(root: URL, listing: [(path: String, label: Int)], policy: BadImagePolicy, startOffset: Int,
                          progressLabel: String? = nil, sink: ([UInt8]) throws -> Void) throws -> ([Entry], [String]) {
        let bar = progressLabel.map { ProgressBar(label: $0, total: listing.count, unit: "img") }
        defer { bar?.finish() }
        var entries: [Entry] = []
        var skipped: [String] = []
        var offset = startOffset
        let chunk = 256
        var start = 0
        while start < listing.count {
            let end = min(start + chunk, listing.count)
            var results = [Result<RGBImage, Error>?](repeating: nil, count: end - start)
            let first = start
            results.withUnsafeMutableBufferPointer { slots in
                // Each iteration writes only its own slot.
                let out = UnsafeSlots(base: slots.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: end - first) { i in
                    let url = root.appendingPathComponent(listing[first + i].path)
                    out.base[i] = Result { try ImageDecoder.decode(contentsOf: url) }
                }
            }
            var bytes: [UInt8] = []
            for (i, result) in results.enumerated() {
                let item = listing[start + i]
                switch result! {
                case .success(let image):
                    entries.append(Entry(path: item.path, label: item.label, width: image.width, height: image.height, offset: offset))
                    bytes.append(contentsOf: image.pixels)
                    offset += image.pixels.count
                case .failure(let error):
                    if policy == .fail {
                        let reason = (error as? ImageCodecError)?.reason ?? error.localizedDescription
                        throw DatasetError.badImage(path: root.appendingPathComponent(item.path).path, reason: reason)
                    }
                    skipped.append(item.path)
                }
            }
            try sink(bytes)
            bar?.update(end, fields: skipped.isEmpty ? [] : [("skipped", String(skipped.count))])
            start = end
        }
        return (entries, skipped)
    }

    /// A valid cache file for `key`, mapped, or nil (absent, stale or damaged: then it is rebuilt).
    static func openCache(_ url: URL, key: String) -> (CacheIndex, MappedFile)? {
        guard FileManager.default.fileExists(atPath: url.path), let map = try? MappedFile(url, expected: "an image cache") else { return nil }
        let bytes = map.bytes
        let magic = Array("SIMCLRIF".utf8)
        guard bytes.count >= 24, Array(bytes[0..<8]) == magic, Array(bytes[(bytes.count - 8)...]) == magic else { return nil }
        let size = Int(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - 16, as: UInt64.self)))
        guard size > 0, size <= bytes.count - 24 else { return nil }
        let jsonStart = bytes.count - 16 - size
        let json = Data(bytes[jsonStart..<(bytes.count - 16)])
        guard let index = try? JSONDecoder().decode(CacheIndex.self, from: json), index.key == key else { return nil }
        for e in index.entries where e.offset < 8 || e.width <= 0 || e.height <= 0 || e.offset + e.width * e.height * 3 > jsonStart {
            return nil
        }
        return (index, map)
    }
}

/// Disjoint per-index result slots shared with `concurrentPerform` workers.
private struct UnsafeSlots<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}
