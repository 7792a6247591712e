// The tensors every BatchNorm layer owns, with PyTorch's names and initial values, and
// PyTorch's running-statistics rule: shared by BatchNorm2d (oneDNN) and BatchNorm1d (host).

import TensorCore

struct NormState {
    let weight: Parameter, bias: Parameter
    let runningMean: Buffer, runningVar: Buffer, numBatchesTracked: Buffer

    /// gamma = 1, beta = 0, running mean 0, running variance 1, num_batches_tracked 0 (int64 on disk).
    init(count: Int, name: String) {
        weight = Parameter(name: name + ".weight", role: .normScale, value: Tensor(shape: [count], repeating: 1))
        bias = Parameter(name: name + ".bias", role: .normShift, value: Tensor(shape: [count]))
        runningMean = Buffer(name: name + ".running_mean", value: Tensor(shape: [count]))
        runningVar = Buffer(name: name + ".running_var", value: Tensor(shape: [count], repeating: 1))
        numBatchesTracked = Buffer(name: name + ".num_batches_tracked", value: Tensor(shape: []), isInteger: true)
    }

    /// r = (1 - m) r + m s for each channel, with the batch mean and the *unbiased* batch
    /// variance; num_batches_tracked += 1.
    func updateRunningStatistics(momentum m: Float, mean: (Int) -> Float, unbiasedVariance: (Int) -> Float) {
        let rm = runningMean.value, rv = runningVar.value
        for i in 0..<rm.count {
            rm[i] = (1 - m) * rm[i] + m * mean(i)
            rv[i] = (1 - m) * rv[i] + m * unbiasedVariance(i)
        }
        numBatchesTracked.value[0] += 1
    }
}
