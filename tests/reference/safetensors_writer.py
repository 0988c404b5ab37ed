"""A minimal safetensors writer, from the format's definition: an 8-byte little-endian header length, the header
(a JSON object: per tensor its dtype, shape and [begin, end) byte offsets into the data section, plus an optional
"__metadata__" object of strings), then the tensors' raw little-endian bytes back to back. Sharded checkpoints add a
model.safetensors.index.json mapping every tensor name to its shard file."""

import json
import struct

import torch

DTYPE_NAMES = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16"}


def tensor_bytes(tensor):
    """The tensor's elements in row-major order as little-endian bytes."""
    tensor = tensor.detach().contiguous().cpu()
    if tensor.dtype == torch.bfloat16:
        return tensor.view(torch.int16).numpy().astype("<i2").tobytes()
    if tensor.dtype == torch.float16:
        return tensor.numpy().astype("<f2").tobytes()
    if tensor.dtype == torch.float32:
        return tensor.numpy().astype("<f4").tobytes()
    raise ValueError(f"no safetensors dtype for {tensor.dtype}")


def write_file(path, tensors):
    """Writes the name -> tensor mapping to one safetensors file (tensors in name order)."""
    header = {"__metadata__": {"format": "pt"}}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        data = tensor_bytes(tensors[name])
        header[name] = {
            "dtype": DTYPE_NAMES[tensors[name].dtype],
            "shape": list(tensors[name].shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)  # the data section starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for chunk in chunks:
            f.write(chunk)


def write_sharded(directory, tensors, shards):
    """Splits the tensors (in name order) into `shards` files named as transformers names them, plus the index."""
    names = sorted(tensors)
    per_shard = -(-len(names) // shards)
    weight_map = {}
    total = 0
    for i in range(shards):
        part = names[i * per_shard:(i + 1) * per_shard]
        file_name = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        write_file(f"{directory}/{file_name}", {name: tensors[name] for name in part})
        for name in part:
            weight_map[name] = file_name
            total += len(tensor_bytes(tensors[name]))
    with open(f"{directory}/model.safetensors.index.json", "w", encoding="utf-8") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
