"""Writes a GGUF file with the official `gguf` package (llama.cpp's gguf-py)
and a JSON manifest of what it contains, for tests/gguf_interop.rs.

Usage: python3 gguf_interop.py OUT.gguf MANIFEST.json [ALIGNMENT]

Without ALIGNMENT the file has no `general.alignment` key (so readers must
fall back to 32). Floats go into the manifest as bit patterns, so the Rust
side can compare them exactly.
"""

import json
import sys

import numpy as np

import gguf

T = gguf.GGUFValueType


def enc(vtype, value, sub=None):
    """Manifest encoding of a metadata value: {"t": type id, "v": value}."""
    if vtype == T.ARRAY:
        if sub is None:
            sub = T.get_type(value[0])
        return {"t": int(T.ARRAY), "v": [enc(sub, item) for item in value]}
    if vtype == T.FLOAT32:
        return {"t": int(vtype), "v": int(np.float32(value).view(np.uint32))}
    if vtype == T.FLOAT64:
        return {"t": int(vtype), "v": int(np.float64(value).view(np.uint64))}
    return {"t": int(vtype), "v": value}


def main():
    out, manifest_path = sys.argv[1], sys.argv[2]
    alignment = int(sys.argv[3]) if len(sys.argv) > 3 else None

    writer = gguf.GGUFWriter(out, arch="llama")  # adds general.architecture
    metadata = [("general.architecture", enc(T.STRING, "llama"))]

    def kv(key, vtype, value, sub=None):
        writer.add_key_value(key, value, vtype, sub_type=sub)
        metadata.append((key, enc(vtype, value, sub)))

    if alignment is not None:
        writer.add_custom_alignment(alignment)
        metadata.append(("general.alignment", enc(T.UINT32, alignment)))
    kv("general.name", T.STRING, "interop ✓ test")
    kv("test.u8", T.UINT8, 250)
    kv("test.i8", T.INT8, -100)
    kv("test.u16", T.UINT16, 65535)
    kv("test.i16", T.INT16, -32768)
    kv("test.u32", T.UINT32, 4_000_000_000)
    kv("test.i32", T.INT32, -2_000_000_000)
    kv("test.i32_positive", T.INT32, 77)
    kv("test.f32", T.FLOAT32, 0.1)
    kv("test.u64", T.UINT64, 2**64 - 1)
    kv("test.i64", T.INT64, -(2**62))
    kv("test.f64", T.FLOAT64, 2.718281828459045)
    kv("test.bool_true", T.BOOL, True)
    kv("test.bool_false", T.BOOL, False)
    kv("test.strings", T.ARRAY, ["<s>", "</s>", "", "ünïcode"])
    kv("test.ints", T.ARRAY, [1, -2, 3])
    kv("test.floats", T.ARRAY, [0.5, -1.25])
    kv("test.u64s", T.ARRAY, [0, 2**40], sub=T.UINT64)
    kv("test.nested", T.ARRAY, [[1, 2], [3]])

    rng = np.random.default_rng(42)
    halves = np.array(
        [0.0, -0.0, 1.0, -2.5, 65504.0, -65504.0, 2**-14, 2**-24,
         -(2**-24), 1023 * 2**-24, np.inf, -np.inf, np.nan, 0.333, 1e-3, 3.140625],
        dtype=np.float16,
    ).reshape(2, 8)
    tensors = [
        ("vec", np.arange(5, dtype=np.float32) * 0.5 - 1.0),
        ("mat", (np.arange(12, dtype=np.float32) * 0.25 - 1.5).reshape(3, 4)),
        ("cube", (np.arange(24, dtype=np.float32) % 7 - 3.0).reshape(2, 3, 4)),
        ("hyper.α", (np.arange(12, dtype=np.float32) * -0.125).reshape(2, 1, 3, 2)),
        ("noise", rng.standard_normal((7, 9)).astype(np.float32)),
        ("half", halves),
        ("ints", np.array([1, -2, 3, -4], dtype=np.int32)),
    ]
    for name, array in tensors:
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    # Ask gguf's own reader where everything landed.
    reader = gguf.GGUFReader(out)
    by_name = {t.name: t for t in reader.tensors}
    manifest_tensors = []
    for name, array in tensors:
        rt = by_name[name]
        entry = {
            "name": name,
            "numpy_shape": list(array.shape),
            "dims": [int(d) for d in rt.shape],  # ggml order, as stored
            "ggml_type": int(rt.tensor_type),
            "offset": int(rt.data_offset - reader.data_offset),
            "n_bytes": int(rt.n_bytes),
        }
        flat = np.ascontiguousarray(array).ravel()
        if array.dtype == np.float32:
            entry["f32_bits"] = [int(b) for b in flat.view(np.uint32)]
        elif array.dtype == np.float16:
            entry["f32_bits"] = [int(b) for b in flat.astype(np.float32).view(np.uint32)]
        manifest_tensors.append(entry)

    manifest = {
        "alignment": int(reader.alignment),
        "data_offset": int(reader.data_offset),
        "file_len": int(reader.data.size),
        "metadata": [{"key": k, **v} for k, v in metadata],
        "reader_keys": [k for k in reader.fields if not k.startswith("GGUF.")],
        "tensors": manifest_tensors,
    }
    with open(manifest_path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
