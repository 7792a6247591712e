// swift-tools-version:6.0
// An example of swift-simclr used as a library: a dataset defined in code, trained through the
// public API. `swift run -c release custom-dataset [RUN_FOLDER]`.
import PackageDescription

let package = Package(
    name: "custom-dataset",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "swift-simclr", path: "../..")],
    targets: [
        .executableTarget(name: "custom-dataset", dependencies: [.product(name: "SimCLR", package: "swift-simclr")]),
    ]
)
