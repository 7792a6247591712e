// CIFAR-10 and CIFAR-100 in their official binary layout (Krizhevsky, 2009;
// https://www.cs.toronto.edu/~kriz/cifar.html), memory-mapped and converted on the fly.
//
// A record is the label byte(s) followed by 3,072 pixel bytes: the 1,024 red values, then green,
// then blue, each 32x32 plane row-major. CIFAR-10 has one label byte (0..9); CIFAR-100 has two,
// coarse (0..19) then fine (0..99). All label bytes are checked when the dataset is opened.
import Foundation

/// A CIFAR-10 or CIFAR-100 split read from the official binary files.
public struct CIFARDataset: ImageDataset {
    /// Which CIFAR.
    public enum Variant: String, Sendable, CaseIterable {
        case cifar10, cifar100

        /// Label bytes per record.
        public var labelBytes: Int { self == .cifar10 ? 1 : 2 }
        /// Bytes per record: labels + 3 x 32 x 32 pixels.
        public var recordBytes: Int { labelBytes + CIFARDataset.pixelBytes }
        /// The folder name inside the official archive.
        public var folderName: String { self == .cifar10 ? "cifar-10-batches-bin" : "cifar-100-binary" }
    }

    /// CIFAR-100 has two labels per image.
    public enum LabelKind: String, Sendable, CaseIterable, Codable { case fine, coarse }

    /// Which records to read.
    public enum Split: Equatable, Sendable {
        /// CIFAR-10: data_batch_1..5 minus the validation batches; CIFAR-100: train.bin.
        case train
        /// CIFAR-10: the validation batches (taken out of training).
        case validation
        /// CIFAR-10: test_batch.bin; CIFAR-100: test.bin.
        case test
        /// CIFAR-10: exactly these training batches (1...5).
        case batches([Int])
    }

    /// CIFAR-10's class names in label order (used when batches.meta.txt is absent).
    public static let cifar10ClassNames = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]
    /// Image side.
    public static let side = 32
    /// Pixel bytes per record (3 x 32 x 32).
    public static let pixelBytes = 3 * 32 * 32

    public let name: String
    public let classNames: [String]
    public let variant: Variant
    /// The files read, in index order.
    public let files: [URL]
    private let maps: [MappedFile]
    /// First global index of each file, plus the total at the end.
    private let starts: [Int]
    private let labels: [UInt8]

    public var count: Int { labels.count }

    /// Opens a CIFAR split.
    ///
    /// - Parameters:
    ///   - directory: the folder holding the .bin files, or a folder containing the archive's
    ///     `cifar-10-batches-bin` / `cifar-100-binary` folder.
    ///   - validationBatches: CIFAR-10 training batches (1...5) held out as the validation split
    ///     and removed from `.train` (the convention here is `[5]`).
    ///   - labelKind: CIFAR-100 only: fine (100 classes, default) or coarse (20 superclasses).
    public init(variant: Variant, directory: URL, split: Split, validationBatches: [Int] = [],
                labelKind: LabelKind = .fine) throws {
        self.variant = variant
        let folder = CIFARDataset.resolveFolder(variant: variant, directory: directory)
        var fileNames: [String]
        var splitName: String
        switch (variant, split) {
        case (.cifar10, _):
            for b in validationBatches where !(1...5).contains(b) {
                throw DatasetError.invalidOption(name: "validation batch", value: String(b), expected: "a batch number in 1...5")
            }
            switch split {
            case .train:
                let kept = (1...5).filter { !validationBatches.contains($0) }
                guard !kept.isEmpty else {
                    throw DatasetError.invalidOption(name: "validation batches", value: "\(validationBatches)",
                                                     expected: "at least one of batches 1...5 left for training")
                }
                fileNames = kept.map { "data_batch_\($0).bin" }
                splitName = validationBatches.isEmpty ? "train" : "train\(kept.map(String.init).joined())"
            case .validation:
                guard !validationBatches.isEmpty else {
                    throw DatasetError.invalidOption(name: "validation batches", value: "none",
                                                     expected: "one or more of batches 1...5 to hold out (e.g. 5)")
                }
                fileNames = validationBatches.sorted().map { "data_batch_\($0).bin" }
                splitName = "val\(validationBatches.sorted().map(String.init).joined())"
            case .test:
                fileNames = ["test_batch.bin"]
                splitName = "test"
            case .batches(let list):
                guard !list.isEmpty else {
                    throw DatasetError.invalidOption(name: "batches", value: "none", expected: "one or more of batches 1...5")
                }
                for b in list where !(1...5).contains(b) {
                    throw DatasetError.invalidOption(name: "batch", value: String(b), expected: "a batch number in 1...5")
                }
                fileNames = list.map { "data_batch_\($0).bin" }
                splitName = "batches\(list.map(String.init).joined())"
            }
        case (.cifar100, .train):
            fileNames = ["train.bin"]; splitName = "train"
        case (.cifar100, .test):
            fileNames = ["test.bin"]; splitName = "test"
        case (.cifar100, _):
            throw DatasetError.unknownSplit(dataset: "cifar100", split: "\(split)", allowed: ["train", "test"])
        }

        let record = variant.recordBytes
        var maps: [MappedFile] = []
        var starts: [Int] = [0]
        var labels: [UInt8] = []
        let labelLimit: Int
        let labelOffset: Int  // which label byte is used
        switch (variant, labelKind) {
        case (.cifar10, _): labelLimit = 10; labelOffset = 0
        case (.cifar100, .coarse): labelLimit = 20; labelOffset = 0
        case (.cifar100, .fine): labelLimit = 100; labelOffset = 1
        }
        let expectedLayout = "a whole number of \(record)-byte records (\(variant.labelBytes) label byte(s) + 3,072 pixel bytes)"
        for fileName in fileNames {
            let url = folder.appendingPathComponent(fileName)
            let map = try MappedFile(url, expected: "the \(variant.rawValue) binary file \(fileName) (\(expectedLayout))")
            guard map.count > 0, map.count % record == 0 else {
                throw DatasetError.wrongSize(path: url.path, actual: map.count, expected: expectedLayout)
            }
            let n = map.count / record
            labels.reserveCapacity(labels.count + n)
            let bytes = map.bytes
            for r in 0..<n {
                // Both label bytes of CIFAR-100 are checked, whichever is used.
                for k in 0..<variant.labelBytes {
                    let limit = variant == .cifar10 ? 10 : (k == 0 ? 20 : 100)
                    let value = Int(bytes[r * record + k])
                    if value >= limit {
                        throw DatasetError.labelOutOfRange(path: url.path, record: r, label: value,
                                                           expected: "0..<\(limit)\(variant == .cifar100 ? (k == 0 ? " (coarse)" : " (fine)") : "")")
                    }
                }
                labels.append(bytes[r * record + labelOffset])
            }
            maps.append(map)
            starts.append(starts.last! + n)
        }
        self.maps = maps
        self.starts = starts
        self.labels = labels
        self.files = fileNames.map { folder.appendingPathComponent($0) }
        self.name = variant == .cifar100 && labelKind == .coarse ? "cifar100-coarse/\(splitName)" : "\(variant.rawValue)/\(splitName)"
        self.classNames = try CIFARDataset.classNames(variant: variant, folder: folder, labelKind: labelKind, count: labelLimit)
    }

    /// The folder holding the .bin files: `directory` itself or its archive sub-folder.
    static func resolveFolder(variant: Variant, directory: URL) -> URL {
        let nested = directory.appendingPathComponent(variant.folderName)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: nested.path, isDirectory: &isDir), isDir.boolValue { return nested }
        return directory
    }

    private static func classNames(variant: Variant, folder: URL, labelKind: LabelKind, count: Int) throws -> [String] {
        let fileName: String
        switch (variant, labelKind) {
        case (.cifar10, _): fileName = "batches.meta.txt"
        case (.cifar100, .fine): fileName = "fine_label_names.txt"
        case (.cifar100, .coarse): fileName = "coarse_label_names.txt"
        }
        let url = folder.appendingPathComponent(fileName)
        if FileManager.default.fileExists(atPath: url.path) {
            return try readClassNames(url, expectedCount: count)
        }
        if variant == .cifar10 { return cifar10ClassNames }
        return (0..<count).map { "class_\($0)" }
    }

    public func label(at index: Int) -> Int? {
        precondition(index >= 0 && index < count, "CIFAR index \(index) out of 0..<\(count)")
        return Int(labels[index])
    }

    /// The image at `index`: the planar record converted to interleaved RGB (32x32).
    public func image(at index: Int) throws -> RGBImage {
        precondition(index >= 0 && index < count, "CIFAR index \(index) out of 0..<\(count)")
        var f = 0
        while index >= starts[f + 1] { f += 1 }
        let offset = (index - starts[f]) * variant.recordBytes + variant.labelBytes
        let plane = CIFARDataset.side * CIFARDataset.side
        var pixels = [UInt8](repeating: 0, count: CIFARDataset.pixelBytes)
        let src = maps[f].bytes
        pixels.withUnsafeMutableBufferPointer { dst in
            for p in 0..<plane {
                dst[p * 3] = src[offset + p]
                dst[p * 3 + 1] = src[offset + plane + p]
                dst[p * 3 + 2] = src[offset + 2 * plane + p]
            }
        }
        return RGBImage(width: CIFARDataset.side, height: CIFARDataset.side, pixels: pixels)
    }
}
