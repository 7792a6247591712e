// swift-tools-version:6.0
// swift-simclr: SimCLR (Chen et al., ICML 2020) in Swift on Linux, on oneDNN and OpenBLAS.
import PackageDescription

// Release-grade code generation for every target, also in debug test builds:
// gradient checks and loaders are far too slow unoptimised.
let optimized: [SwiftSetting] = [.unsafeFlags(["-O"])]

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
    targets: [
        // MARK: C system libraries (Debian: libdnnl-dev libopenblas-dev libturbojpeg0-dev libpng-dev libarchive-dev)
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        .systemLibrary(name: "CArchive", path: "Sources/CArchive"),

        // MARK: Tensor core: host tensors, oneDNN handles, BLAS, threads, safetensors
        .target(name: "TensorCore", dependencies: ["CDNNL", "CBLAS"], swiftSettings: optimized),

        // MARK: Layers and models: Conv2d, BatchNorm, ResNet, projection head
        .target(name: "NN", dependencies: ["TensorCore"], swiftSettings: optimized),

        // MARK: Optimizers and learning-rate schedules
        .target(name: "Optim", dependencies: ["TensorCore"], swiftSettings: optimized),

        // MARK: Data: datasets, codecs, augmentations, loader
        .target(name: "Data", dependencies: ["TensorCore", "CJPEG", "CPNG", "CArchive"], swiftSettings: optimized),

        // MARK: SimCLR: NT-Xent, trainer, evaluation, logs
        .target(
            name: "SimCLR",
            dependencies: ["TensorCore", "NN", "Optim", "Data", .product(name: "Yams", package: "Yams")],
            swiftSettings: optimized),

        // MARK: The `simclr` command
        .executableTarget(
            name: "SimCLRCLI",
            dependencies: ["SimCLR", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: optimized),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"], swiftSettings: optimized),
        .testTarget(name: "NNTests", dependencies: ["NN", "TestSupport"], swiftSettings: optimized),
        .testTarget(name: "OptimTests", dependencies: ["Optim", "NN", "TestSupport"], swiftSettings: optimized),
        .testTarget(name: "DataTests", dependencies: ["Data", "TestSupport"], swiftSettings: optimized),
        .testTarget(name: "SimCLRTests", dependencies: ["SimCLR", "TestSupport"], swiftSettings: optimized),
        .testTarget(name: "CLITests", dependencies: ["SimCLRCLI", "SimCLR", "TestSupport"], swiftSettings: optimized),
    ]
)
