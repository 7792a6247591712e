// swift-tools-version:6.0
// swift-simclr: SimCLR (Chen et al., ICML 2020) in Swift on Linux, on oneDNN and OpenBLAS.
import PackageDescription

// No unsafe flags (SwiftPM refuses them in a versioned dependency). The tests are built in
// release mode with testing enabled instead: `bash scripts/test.sh`.
let package = Package(
    name: "swift-simclr",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "SimCLR", targets: ["SimCLR"]),
        .executable(name: "simclr", targets: ["SimCLRCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    // Each target lists every module its files import, also those another dependency already brings.
    targets: [
        // MARK: C system libraries (Debian: libdnnl-dev libopenblas-dev libturbojpeg0-dev libpng-dev libarchive-dev)
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        .systemLibrary(name: "CArchive", path: "Sources/CArchive"),

        // MARK: Tensor core: host tensors, oneDNN handles, BLAS, threads, safetensors
        .target(name: "TensorCore", dependencies: ["CDNNL", "CBLAS"]),

        // MARK: Layers and models: Conv2d, BatchNorm, ResNet, projection head
        .target(name: "NN", dependencies: ["TensorCore", "CBLAS"]),

        // MARK: Optimizers and learning-rate schedules
        .target(name: "Optim", dependencies: ["TensorCore"]),

        // MARK: Data: datasets, codecs, augmentations, loader
        .target(name: "Data", dependencies: ["TensorCore", "CJPEG", "CPNG", "CArchive"]),

        // MARK: SimCLR: NT-Xent, trainer, evaluation, logs
        .target(
            name: "SimCLR",
            dependencies: ["TensorCore", "NN", "Optim", "Data", "CBLAS", .product(name: "Yams", package: "Yams")]),

        // MARK: The `simclr` command
        .executableTarget(
            name: "SimCLRCLI",
            dependencies: [
                "TensorCore", "NN", "Optim", "Data", "SimCLR", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: ["TensorCore", "CArchive"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "TensorCore", "TestSupport"]),
        .testTarget(name: "OptimTests", dependencies: ["Optim", "TensorCore", "TestSupport"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "TestSupport"]),
        .testTarget(name: "SimCLRTests", dependencies: ["SimCLR", "Data", "TensorCore", "TestSupport"]),
        .testTarget(
            name: "CLITests",
            dependencies: ["SimCLRCLI", "SimCLR", "Data", "TestSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    ]
)
