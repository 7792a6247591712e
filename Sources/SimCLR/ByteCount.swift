// A number of bytes as messages print it: "12.3 MiB (12,897,484 bytes)".
import Foundation

/// A byte count, printed in binary units with the exact count.
public struct ByteCount: CustomStringConvertible, Equatable, Sendable {
    public var bytes: Int
    public init(_ bytes: Int) { self.bytes = bytes }

    /// "512 bytes", "3.0 KiB (3,072 bytes)", "1.50 GiB (1,610,612,736 bytes)".
    public var description: String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = -1
        while abs(value) >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let exact = "\(Self.grouped(bytes)) bytes"
        guard unit >= 0 else { return exact }
        return String(format: value < 10 ? "%.2f %@" : "%.1f %@", value, units[unit]) + " (\(exact))"
    }

    /// 1234567 -> "1,234,567".
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }
}
