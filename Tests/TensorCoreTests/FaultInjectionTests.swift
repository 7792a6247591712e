// Fault injection: SIMCLR_FAULT plans parse (and malformed ones do not), an armed pass fails the
// AtomicFile write with its errno leaving the old file, a signal action raises the signal, and
// the temporary files of dead writers are found and removed (those of live ones are kept).
import Foundation
import TestSupport
import XCTest

@testable import TensorCore

final class FaultInjectionTests: XCTestCase {
    override func tearDown() { FaultInjection.shared.arm([]) }

    func testPlansParse() {
        XCTAssertEqual(FaultInjection.parse("atomic-write@3:kill, train-step@6:sigint"), [
            FaultPlan(point: .atomicWrite, pass: 3, action: .kill),
            FaultPlan(point: FaultPoint("train-step"), pass: 6, action: .signal(SIGINT)),
        ])
        XCTAssertEqual(FaultInjection.parse("atomic-rename@1:ENOSPC"), [FaultPlan(point: .atomicRename, pass: 1, action: .fail(errno: ENOSPC))])
        XCTAssertEqual(FaultInjection.parse(""), [])
        for bad in ["atomic-write", "atomic-write@0:kill", "atomic-write@x:kill", "@1:kill", "atomic-write@1:explode", "a@1:kill,b"] {
            XCTAssertNil(FaultInjection.parse(bad), bad)
        }
    }

    func testAnArmedPassFailsThatWriteOnlyAndKeepsTheOldFile() throws {
        let dir = try makeTemporaryDirectory("fault-test")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("f.bin")
        try AtomicFile.write(Data([1]), to: url)
        FaultInjection.shared.arm([FaultPlan(point: .atomicWrite, pass: 2, action: .fail(errno: ENOSPC))])
        let pieces: [[UInt8]] = [[2], [3], [4]]
        XCTAssertThrowsError(try AtomicFile.write(to: url) { sink in for p in pieces { try p.withUnsafeBytes { try sink.write($0) } } }) {
            let m = $0.localizedDescription
            XCTAssertTrue(m.contains(url.path) && m.contains("No space left on device"), m)
        }
        XCTAssertEqual(try Data(contentsOf: url), Data([1]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["f.bin"], "the partial temporary is removed")
        try AtomicFile.write(Data([5]), to: url)  // pass 3 and later are not armed
        XCTAssertEqual(try Data(contentsOf: url), Data([5]))

        FaultInjection.shared.arm([FaultPlan(point: .atomicRename, pass: 1, action: .fail(errno: EIO))])
        XCTAssertThrowsError(try AtomicFile.write(Data([6]), to: url))
        XCTAssertEqual(try Data(contentsOf: url), Data([5]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["f.bin"])
    }

    func testASignalActionRaisesTheSignal() {
        let previous = signal(SIGUSR1, SIG_IGN)
        defer { signal(SIGUSR1, previous) }
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR1)
        var old = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &old)  // keep it pending to see it
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        FaultInjection.shared.arm([FaultPlan(point: FaultPoint("p"), pass: 2, action: .signal(SIGUSR1))])
        XCTAssertNil(FaultPoint("p").pass())
        var pending = sigset_t()
        sigpending(&pending)
        XCTAssertEqual(sigismember(&pending, SIGUSR1), 0)
        XCTAssertNil(FaultPoint("p").pass(), "a signal action carries on")
        sigpending(&pending)
        XCTAssertEqual(sigismember(&pending, SIGUSR1), 1)
        var got: Int32 = 0
        sigwait(&blocked, &got)  // consume it
    }

    func testStaleTemporariesOfDeadWritersAreRemoved() throws {
        let dir = try makeTemporaryDirectory("fault-test")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A pid that is not alive: a finished child's.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier
        let names = [".c.safetensors.tmp-\(dead)-ab12", ".c.safetensors.tmp-\(getpid())-cd34", "c.safetensors", ".hidden"]
        for n in names { FileManager.default.createFile(atPath: dir.appendingPathComponent(n).path, contents: Data([0])) }
        XCTAssertEqual(AtomicFile.removeStaleTemporaries(in: dir), [names[0]])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), names.dropFirst().sorted())
    }
}
