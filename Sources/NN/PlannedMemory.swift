// What a compiled pass holds in memory, by kind: the activations it keeps for backward, the pool
// arena (gradients, short-lived forward values, weight copies, every primitive's scratchpad) and
// the plain input / output tensors it copies through. `PlannedNetwork.plannedMemory` gives it
// before anything is allocated, so a run can refuse a batch that does not fit.
import Foundation

/// Bytes held by one compiled pass.
public struct PlannedMemory: Equatable, Sendable {
    /// Activations kept from forward to backward (owned by the plan).
    public var kept: Int
    /// The pool arena, laid out by lifetime.
    public var pool: Int
    /// Plain input, output and gradient tensors.
    public var host: Int

    public init(kept: Int, pool: Int, host: Int) {
        self.kept = kept
        self.pool = pool
        self.host = host
    }

    /// kept + pool + host.
    public var total: Int { kept + pool + host }
}
