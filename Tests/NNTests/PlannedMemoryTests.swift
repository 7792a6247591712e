// The memory of a compiled pass known before it is allocated: a measuring plan reports exactly
// what the real plan then holds (kept activations, arena, plain tensors), and allocates none of it.
import Foundation
import NN
import TensorCore
import TestSupport
import XCTest

final class PlannedMemoryTests: XCTestCase {
    func testAMeasuringPlanReportsTheRealPlansMemoryWithoutAllocatingIt() throws {
        ComputeThreads.set(1)
        for (depth, training) in [(ResNetConfig.Depth.resnet18, true), (.resnet18, false), (.resnet50, true)] {
            var rng = RandomState(seed: 1)
            let net = ResNet(ResNetConfig(depth: depth, stem: .cifar, width: 0.125), rng: &rng)
            _ = try net.plannedMemory(batch: 2, height: 16, width: 16, training: training)  // makes the 64-byte placeholder, once
            let before = DeviceBuffer.allocations
            let measured = try net.plannedMemory(batch: 6, height: 16, width: 16, training: training)
            XCTAssertEqual(DeviceBuffer.allocations, before, "\(depth.name): measuring allocates no activation or arena")
            let real = try net.compiled(batch: 6, height: 16, width: 16, training: training)
            XCTAssertGreaterThan(DeviceBuffer.allocations, before)
            XCTAssertEqual(measured, real.memory, "\(depth.name) training \(training)")
            XCTAssertEqual(real.memory.kept + real.memory.pool, real.memoryBytes)
            XCTAssertEqual(real.memory.host, 4 * (6 * 3 * 16 * 16 + 2 * 6 * net.featureDim), "input, output and its gradient")
            XCTAssertEqual(try net.plannedMemory(batch: 6, height: 16, width: 16, training: training), real.memory, "a compiled pass reports itself")
            // Twice the images: more memory (activations scale with the batch, scratchpads less).
            let double = try net.plannedMemory(batch: 12, height: 16, width: 16, training: training)
            XCTAssertGreaterThan(double.total, measured.total)
        }
    }
}
