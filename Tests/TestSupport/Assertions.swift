// Shared test helpers: one closeness check that compares shapes first and reports the worst
// element, seeded random tensors, and fixture loading (fixtures are made by scripts in tools/).
import Foundation
import TensorCore
import XCTest

/// Asserts |actual - expected| <= atol + rtol * |expected| elementwise, after checking the shapes.
/// On failure, reports the worst element (index, both values, the error and its allowance).
public func assertClose(
    _ actual: Tensor, _ expected: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    guard actual.shape == expected.shape else {
        XCTFail("shape \(actual.shape) != expected \(expected.shape) \(message())", file: file, line: line)
        return
    }
    assertClose(actual.array, expected.array, rtol: rtol, atol: atol, message(), file: file, line: line)
}

/// Array form of `assertClose`; the counts must match.
public func assertClose(
    _ actual: [Float], _ expected: [Float], rtol: Float = 1e-5, atol: Float = 1e-6,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    guard actual.count == expected.count else {
        XCTFail("count \(actual.count) != expected \(expected.count) \(message())", file: file, line: line)
        return
    }
    var worst = -1
    var worstExcess: Float = 0
    for i in 0..<actual.count {
        let a = actual[i], e = expected[i]
        if a.isNaN != e.isNaN { worst = i; worstExcess = .infinity; break }
        if a.isNaN { continue }
        let excess = abs(a - e) - (atol + rtol * abs(e))
        if excess > worstExcess { worstExcess = excess; worst = i }
    }
    if worst >= 0 {
        let a = actual[worst], e = expected[worst]
        XCTFail(
            "not close at [\(worst)] of \(actual.count): got \(a), expected \(e), |diff| \(abs(a - e)) > "
                + "atol \(atol) + rtol \(rtol) * |expected| \(message())",
            file: file, line: line)
    }
}

/// A small deterministic generator (SplitMix64) for test inputs.
public struct TestRNG {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 { splitMix64(&state) }
    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    /// A tensor of uniform values in [lo, hi).
    public mutating func tensor(_ shape: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Tensor {
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t[i] = uniform(lo, hi) }
        return t
    }
}

/// Fixtures: JSON files under Tests/Fixtures written by the scripts in tools/.
/// Layout: {"tensor name": {"shape": [..], "data": [..]}, ..., "meta": {...}} (meta optional).
public enum Fixtures {
    /// The Tests/Fixtures folder of this checkout.
    public static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures")
    }

    /// Loads every tensor of fixture `name` (file `name.json`).
    public static func tensors(_ name: String) throws -> [String: Tensor] {
        let url = directory.appendingPathComponent(name + ".json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let dict = object as? [String: Any] else { throw FixtureError.malformed(url.path) }
        var out: [String: Tensor] = [:]
        for (key, value) in dict {
            guard let entry = value as? [String: Any], let shape = entry["shape"] as? [Int],
                let data = entry["data"] as? [Double]
            else { continue }
            out[key] = Tensor(shape: shape, values: data.map(Float.init))
        }
        return out
    }

    /// The raw JSON object of fixture `name`, for metadata and non-tensor values.
    public static func json(_ name: String) throws -> [String: Any] {
        let url = directory.appendingPathComponent(name + ".json")
        guard let dict = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw FixtureError.malformed(url.path)
        }
        return dict
    }

    public enum FixtureError: Error { case malformed(String) }
}

/// A fresh empty folder in the system temporary folder, removed by the caller.
public func makeTemporaryDirectory(_ prefix: String = "simclr-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
