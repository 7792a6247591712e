// SafeTensors: reading and writing weights in Hugging Face's safetensors format, and a strict
// state-dict loader over a model's named parameters and buffers.
//
// Layout of a file (https://github.com/huggingface/safetensors, "Format"):
//
//     [8 bytes: N, little-endian UInt64] [N bytes: UTF-8 JSON header] [data section]
//
// The header is a JSON object mapping each tensor name to
// `{"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}` (byte offsets relative
// to the start of the data section, row-major, little-endian values), plus an optional
// `"__metadata__": {"key": "value"}` object of strings. The header may be padded with spaces; this
// writer pads it so that the data section starts at a multiple of 8 bytes.
//
// The pieces, one file each (this folder):
// - `SafeTensorsDType`: element types and their conversion to and from `Float`.
// - `SafeTensorsHeader`: the length prefix and padding (`SafeTensorsHeader.swift`), decoding the
//   JSON (`+Decoding`), the checks every entry and the data section must pass (`+Validation`),
//   and encoding the JSON with Foundation's `JSONEncoder` (`+Encoding`).
// - `SafeTensorsFile`: the reader, a validated file held in memory.
// - `SafeTensors.Layout` and `SafeTensors+Writer`: the writer (`encode`, streamed `write`).
// - `SafeTensors+StateDict`: mapping a model's `Parameter`s and `Buffer`s to named tensors.
//
// Names follow torchvision's ResNet `state_dict` (`conv1.weight`, `bn1.running_mean`,
// `bn1.num_batches_tracked` as I64, `layer2.0.downsample.0.weight`, ...), and the projection head
// lives under `head.`, so that an encoder saved here loads with `strict=True` into
// `torchvision.models.resnet18()` with the CIFAR stem (see tools/check_torchvision_load.py).

/// Saving and strict loading of a model's named tensors in safetensors files.
public enum SafeTensors {}
