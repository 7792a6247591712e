// Tiny datasets written in their official layouts, for command-line tests: the CIFAR-10 and
// CIFAR-100 binary batches, STL-10's binary files, and an image folder of PNG and JPEG files.
import Foundation
import SimCLR

enum OfficialLayouts {
    /// A pixel value that differs between images, channels and positions.
    static func value(_ image: Int, _ c: Int, _ y: Int, _ x: Int, salt: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: image * 37 + c * 71 + y * 5 + x * 11 + salt)
    }

    /// CIFAR records: label bytes, then the R, G, B planes of 32 x 32, row-major.
    static func cifarRecords(labels: [[UInt8]], salt: Int) -> Data {
        var out = Data()
        for (r, l) in labels.enumerated() {
            out.append(contentsOf: l)
            for c in 0..<3 { for y in 0..<32 { for x in 0..<32 { out.append(value(r, c, y, x, salt: salt)) } } }
        }
        return out
    }

    /// `dir/cifar-10-batches-bin/`: data_batch_1..5 with `perBatch` records each, test_batch with `test`.
    static func cifar10(in dir: URL, perBatch: Int, test: Int, testOnly: Bool = false) throws {
        let sub = dir.appendingPathComponent("cifar-10-batches-bin")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        if !testOnly {
            for b in 1...5 {
                try cifarRecords(labels: (0..<perBatch).map { [UInt8(($0 + b) % 10)] }, salt: b)
                    .write(to: sub.appendingPathComponent("data_batch_\(b).bin"))
            }
        }
        try cifarRecords(labels: (0..<test).map { [UInt8($0 % 10)] }, salt: 99).write(to: sub.appendingPathComponent("test_batch.bin"))
    }

    /// `dir/cifar-100-binary/`: train.bin and test.bin, coarse label i % 20, fine label i % 100.
    static func cifar100(in dir: URL, train: Int, test: Int) throws {
        let sub = dir.appendingPathComponent("cifar-100-binary")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        func labels(_ n: Int, _ shift: Int) -> [[UInt8]] { (0..<n).map { [UInt8(($0 + shift) % 20), UInt8(($0 * 7 + shift) % 100)] } }
        try cifarRecords(labels: labels(train, 0), salt: 1).write(to: sub.appendingPathComponent("train.bin"))
        try cifarRecords(labels: labels(test, 3), salt: 2).write(to: sub.appendingPathComponent("test.bin"))
    }

    /// STL-10 images: 3 x 96 x 96, each channel column-major.
    static func stlImages(_ n: Int, salt: Int) -> Data {
        var out = Data(capacity: n * 27_648)
        for i in 0..<n { for c in 0..<3 { for x in 0..<96 { for y in 0..<96 { out.append(value(i, c, y, x, salt: salt)) } } } }
        return out
    }

    /// `dir/stl10_binary/`: train_X/y (labels 1...10 on disk), test_X/y, unlabeled_X.
    static func stl10(in dir: URL, train: Int, test: Int, unlabeled: Int) throws {
        let sub = dir.appendingPathComponent("stl10_binary")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try stlImages(train, salt: 0).write(to: sub.appendingPathComponent("train_X.bin"))
        try Data((0..<train).map { UInt8($0 % 10 + 1) }).write(to: sub.appendingPathComponent("train_y.bin"))
        try stlImages(test, salt: 50).write(to: sub.appendingPathComponent("test_X.bin"))
        try Data((0..<test).map { UInt8(($0 + 3) % 10 + 1) }).write(to: sub.appendingPathComponent("test_y.bin"))
        try stlImages(unlabeled, salt: 200).write(to: sub.appendingPathComponent("unlabeled_X.bin"))
    }

    /// `dir/<class>/<i>.png|jpg`: `perClass` images of 20 x 14 per class, every other one a JPEG.
    static func folder(in dir: URL, classes: [String], perClass: Int) throws {
        for (k, name) in classes.enumerated() {
            let sub = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            for i in 0..<perClass {
                var image = RGBImage(width: 20, height: 14)
                for y in 0..<14 { for x in 0..<20 { for c in 0..<3 {
                    image.pixels[(y * 20 + x) * 3 + c] = (x / (k + 2) + y / 3) % 2 == 0 ? value(i, c, y, x, salt: k * 60) : 255 - UInt8(40 * k)
                } } }
                if i % 2 == 1 {
                    try Data(try JPEGCodec.encode(image, quality: 92)).write(to: sub.appendingPathComponent("\(i).jpg"))
                } else {
                    try PNGCodec.write(image, to: sub.appendingPathComponent("\(i).png"))
                }
            }
        }
    }
}
