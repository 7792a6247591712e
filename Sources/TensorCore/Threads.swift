// One thread-count setting that oneDNN (OpenMP) and OpenBLAS both honour.
import CBLAS
import CDNNL
import Foundation

public enum ComputeThreads {
    /// Number of online cores.
    public static var available: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Sets the threads used by oneDNN (OpenMP) and OpenBLAS. `n <= 0` means all cores.
    public static func set(_ n: Int) {
        let t = n > 0 ? n : available
        omp_set_num_threads(Int32(t))
        openblas_set_num_threads(Int32(t))
        current = t
    }

    /// The count last set (all cores until `set` is called).
    nonisolated(unsafe) public private(set) static var current: Int = ProcessInfo.processInfo.activeProcessorCount
}
