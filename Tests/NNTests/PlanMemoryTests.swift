// The plan's memory: the pool arena shares bytes only between values whose lifetimes do not
// overlap, and rebuilding activations in backward (instead of keeping them) changes no bit of
// the results while it shrinks the plan.

import Foundation
import NN
import TensorCore
import TestSupport
import XCTest

final class PlanMemoryTests: XCTestCase {
    func range(_ m: Memory) -> Range<UInt> {
        let start = UInt(bitPattern: m.pointer)
        return start..<(start + UInt(m.desc.byteCount))
    }

    func testArenaSharesBytesOnlyBetweenDisjointLifetimes() {
        let b = PlanBuilder(training: true)
        let desc = MemoryDesc.plain([256, 1024])  // 1 MiB
        let a = b.gradient(desc)
        b.forwardHost {}
        let c = b.gradient(desc)
        b.forwardHost {}
        b.release(a)
        let d = b.gradient(desc)  // may reuse a's bytes: a's last reader is already planned
        b.hold(c)
        b.forwardHost {}
        b.release(c)  // one holder left: c stays live
        let e = b.gradient(desc)
        b.forwardHost {}
        b.release(c)
        b.release(d)
        b.release(e)
        b.finish()
        XCTAssertFalse(range(a).overlaps(range(c)))
        XCTAssertFalse(range(c).overlaps(range(d)))
        XCTAssertFalse(range(c).overlaps(range(e)), "a held memory must stay live")
        XCTAssertFalse(range(d).overlaps(range(e)))
        XCTAssertEqual(range(a), range(d), "a and d never live together: same bytes")
        XCTAssertEqual(b.poolBytes, 3 << 20, "at most three of the four are live at once")
        XCTAssertEqual(b.peakLivePoolMemories, 3)
    }

    /// One forward and backward of a small ResNet; returns h, every parameter gradient and every
    /// running statistic, and the plan's bytes.
    func step(_ depth: ResNetConfig.Depth, stem: ResNetConfig.Stem, rebuild: Bool) throws -> (values: [[Float]], bytes: Int) {
        var rng = RandomState(seed: 5)
        let net = ResNet(ResNetConfig(depth: depth, stem: stem, width: 0.25), rng: &rng)
        net.network.rebuildsActivations = rebuild
        var t = TestRNG(seed: 9)
        let x = t.tensor([6, 3, 32, 32])
        let h = try net.forward(x, training: true)
        var values = [Array(UnsafeBufferPointer(start: h.data, count: h.count))]
        net.backward(t.tensor(h.shape))
        for p in net.parameters { values.append(Array(UnsafeBufferPointer(start: p.grad.data, count: p.grad.count))) }
        for buffer in net.buffers where buffer.value.count > 1 {
            values.append(Array(UnsafeBufferPointer(start: buffer.value.data, count: buffer.value.count)))
        }
        let pass = try net.compiled(batch: 6, height: 32, width: 32, training: true)
        return (values, pass.memoryBytes)
    }

    func testRebuildingActivationsIsBitIdenticalAndSmaller() throws {
        for (depth, stem) in [(ResNetConfig.Depth.resnet18, ResNetConfig.Stem.cifar), (.resnet50, .imagenet)] {
            let kept = try step(depth, stem: stem, rebuild: false)
            let rebuilt = try step(depth, stem: stem, rebuild: true)
            XCTAssertEqual(kept.values.count, rebuilt.values.count)
            for (i, (a, b)) in zip(kept.values, rebuilt.values).enumerated() {
                XCTAssertEqual(a, b, "\(depth) \(stem): tensor \(i) differs with rebuilt activations")
            }
            XCTAssertLessThan(rebuilt.bytes, kept.bytes, "\(depth) \(stem): rebuilding should shrink the plan")
        }
    }
}
