// STL-10 in its official binary layout (Coates, Lee, Ng, AISTATS 2011;
// https://cs.stanford.edu/~acoates/stl10/), memory-mapped and converted on the fly.
//
// `stl10_binary/` holds train_X.bin / test_X.bin / unlabeled_X.bin: 96x96x3 uint8 images, each
// stored channel by channel with every channel COLUMN-major (as MATLAB writes it), and
// train_y.bin / test_y.bin with one label byte per image, 1...10 on disk (0...9 here).
// unlabeled_X.bin is 2.7 GB: it is mapped, never read whole.
import Foundation

/// An STL-10 split read from the official binary files.
public struct STL10Dataset: ImageDataset {
    /// The splits; `train+unlabeled` is the usual SimCLR pretraining set (105,000 images).
    public enum Split: String, Sendable, CaseIterable {
        case train, test, unlabeled
        case trainUnlabeled = "train+unlabeled"
    }

    /// STL-10's class names in label order (used when class_names.txt is absent).
    public static let defaultClassNames = [
        "airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck",
    ]
    /// Image side.
    public static let side = 96
    /// Bytes per image (3 x 96 x 96).
    public static let imageBytes = 3 * 96 * 96

    private struct Part: Sendable {
        let images: MappedFile
        let labels: [UInt8]?  // 0-based, nil for unlabeled
        let count: Int
    }

    public let name: String
    public let classNames: [String]
    private let parts: [Part]
    public let count: Int

    /// Opens an STL-10 split.
    /// - Parameter directory: the `stl10_binary` folder, or a folder that contains it.
    public init(directory: URL, split: Split) throws {
        var folder = directory
        let nested = directory.appendingPathComponent("stl10_binary")
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: nested.path, isDirectory: &isDir), isDir.boolValue { folder = nested }
        let stems: [(String, Bool)]
        switch split {
        case .train: stems = [("train", true)]
        case .test: stems = [("test", true)]
        case .unlabeled: stems = [("unlabeled", false)]
        case .trainUnlabeled: stems = [("train", true), ("unlabeled", false)]
        }
        var parts: [Part] = []
        for (stem, labelled) in stems {
            let xURL = folder.appendingPathComponent("\(stem)_X.bin")
            let layout = "a whole number of \(STL10Dataset.imageBytes)-byte images (3 x 96 x 96, column-major channels)"
            let images = try MappedFile(xURL, expected: "the STL-10 image file \(stem)_X.bin (\(layout))")
            guard images.count > 0, images.count % STL10Dataset.imageBytes == 0 else {
                throw DatasetError.wrongSize(path: xURL.path, actual: images.count, expected: layout)
            }
            let n = images.count / STL10Dataset.imageBytes
            var labels: [UInt8]? = nil
            if labelled {
                let yURL = folder.appendingPathComponent("\(stem)_y.bin")
                let y = try MappedFile(yURL, expected: "the STL-10 label file \(stem)_y.bin (one byte per image, 1...10)")
                guard y.count == n else {
                    throw DatasetError.wrongSize(path: yURL.path, actual: y.count,
                                                 expected: "\(n) bytes, one label per image in \(stem)_X.bin")
                }
                var l = [UInt8](repeating: 0, count: n)
                for i in 0..<n {
                    let v = y.bytes[i]
                    guard v >= 1 && v <= 10 else {
                        throw DatasetError.labelOutOfRange(path: yURL.path, record: i, label: Int(v), expected: "1...10")
                    }
                    l[i] = v - 1
                }
                labels = l
            }
            parts.append(Part(images: images, labels: labels, count: n))
        }
        self.parts = parts
        self.count = parts.reduce(0) { $0 + $1.count }
        self.name = "stl10/\(split.rawValue)"
        let namesURL = folder.appendingPathComponent("class_names.txt")
        if FileManager.default.fileExists(atPath: namesURL.path) {
            classNames = try readClassNames(namesURL, expectedCount: 10)
        } else {
            classNames = STL10Dataset.defaultClassNames
        }
    }

    private func locate(_ index: Int) -> (Part, Int) {
        precondition(index >= 0 && index < count, "STL-10 index \(index) out of 0..<\(count)")
        var i = index
        for part in parts {
            if i < part.count { return (part, i) }
            i -= part.count
        }
        preconditionFailure("unreachable")
    }

    /// The label (0...9) of a labelled image; nil for images from unlabeled_X.bin.
    public func label(at index: Int) -> Int? {
        let (part, i) = locate(index)
        return part.labels.map { Int($0[i]) }
    }

    /// The image at `index`, transposed from column-major planes to interleaved rows (96x96).
    public func image(at index: Int) throws -> RGBImage {
        let (part, i) = locate(index)
        let side = STL10Dataset.side, plane = side * side
        let offset = i * STL10Dataset.imageBytes
        let src = part.images.bytes
        var pixels = [UInt8](repeating: 0, count: STL10Dataset.imageBytes)
        pixels.withUnsafeMutableBufferPointer { dst in
            for c in 0..<3 {
                let planeStart = offset + c * plane
                // Read sequentially (down each column), write strided.
                for x in 0..<side {
                    let column = planeStart + x * side
                    for y in 0..<side { dst[(y * side + x) * 3 + c] = src[column + y] }
                }
            }
        }
        return RGBImage(width: side, height: side, pixels: pixels)
    }
}
