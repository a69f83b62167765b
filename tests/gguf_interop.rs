//! Interop test for the `loader` capstone: files written by the official
//! `gguf` Python package (llama.cpp's gguf-py) must load with the reference
//! solution exactly as gguf's own reader sees them.
//!
//! `tests/gguf_interop.py` writes the file with `gguf.GGUFWriter`, reads it
//! back with `gguf.GGUFReader` and records names, dims, types, offsets,
//! metadata and values in a JSON manifest. The test is skipped (with a
//! message on stderr) only if `python3`, `gguf` or `numpy` is unavailable.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

#[allow(dead_code)]
#[path = "../solutions/14_loader/loader.rs"]
mod loader;

use loader::{LoadError, MetaValue, ModelLoader, ScratchPool};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/gguf_interop.py");

/// `Err(reason)` if the Python side cannot run here.
fn python_with_gguf() -> Result<(), String> {
    match Command::new("python3")
        .args(["-c", "import gguf, numpy"])
        .output()
    {
        Err(e) => Err(format!("cannot run python3: {e}")),
        Ok(out) if !out.status.success() => Err(format!(
            "python3 cannot import gguf and numpy (pip install gguf): {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )),
        Ok(_) => Ok(()),
    }
}

/// Runs the writer script; returns the manifest.
fn write_with_gguf_py(file: &Path, alignment: Option<u32>) -> Value {
    let manifest = file.with_extension("json");
    let mut cmd = Command::new("python3");
    cmd.arg(SCRIPT).arg(file).arg(&manifest);
    if let Some(a) = alignment {
        cmd.arg(a.to_string());
    }
    let out = cmd.output().expect("python3 ran a moment ago");
    assert!(
        out.status.success(),
        "gguf_interop.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&manifest).expect("manifest written");
    serde_json::from_str(&text).expect("manifest is JSON")
}

fn as_u64(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("expected an unsigned integer, got {v}"))
}

/// Checks one metadata value against its manifest encoding
/// `{"t": gguf type id, "v": value}` (floats as bit patterns).
fn check_value(key: &str, got: &MetaValue, want: &Value) {
    let t = as_u64(&want["t"]);
    let v = &want["v"];
    let int = |x: i128| v.as_i64().map(i128::from).or(v.as_u64().map(i128::from)) == Some(x);
    let ok = match (t, got) {
        (0, MetaValue::U8(x)) => int((*x).into()),
        (1, MetaValue::I8(x)) => int((*x).into()),
        (2, MetaValue::U16(x)) => int((*x).into()),
        (3, MetaValue::I16(x)) => int((*x).into()),
        (4, MetaValue::U32(x)) => int((*x).into()),
        (5, MetaValue::I32(x)) => int((*x).into()),
        (6, MetaValue::F32(x)) => u64::from(x.to_bits()) == as_u64(v),
        (7, MetaValue::Bool(x)) => v.as_bool() == Some(*x),
        (8, MetaValue::Str(x)) => v.as_str() == Some(x.as_str()),
        (9, MetaValue::Array(items)) => {
            let want_items = v.as_array().expect("array items");
            assert_eq!(items.len(), want_items.len(), "{key}: array length");
            for (item, want_item) in items.iter().zip(want_items) {
                check_value(key, item, want_item);
            }
            true
        }
        (10, MetaValue::U64(x)) => int((*x).into()),
        (11, MetaValue::I64(x)) => int((*x).into()),
        (12, MetaValue::F64(x)) => x.to_bits() == as_u64(v),
        _ => false,
    };
    assert!(ok, "{key}: loader has {got:?}, gguf-py wrote {want}");
}

/// The signed or unsigned integer in `want`, if it fits in a u64.
fn expected_u64(want: &Value) -> Option<u64> {
    match as_u64(&want["t"]) {
        0..=5 | 10 | 11 => want["v"].as_u64(),
        _ => None,
    }
}

fn check_file(dir: &Path, alignment: Option<u32>) {
    let file = dir.join(match alignment {
        Some(a) => format!("interop_align{a}.gguf"),
        None => "interop_default.gguf".to_owned(),
    });
    let m = write_with_gguf_py(&file, alignment);
    let model = ModelLoader::open(&file).expect("the loader opens gguf-py's file");

    // Header.
    assert_eq!(model.version(), 3);
    assert_eq!(model.alignment(), as_u64(&m["alignment"]));
    assert_eq!(model.alignment(), alignment.map_or(32, u64::from));
    assert_eq!(model.data_offset(), as_u64(&m["data_offset"]));
    assert_eq!(model.file_len(), as_u64(&m["file_len"]));

    // Metadata: same keys in the same order as gguf's reader, same values.
    let keys: Vec<&str> = model.metadata().iter().map(|(k, _)| k.as_str()).collect();
    let reader_keys: Vec<&str> = m["reader_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(keys, reader_keys);
    for want in m["metadata"].as_array().unwrap() {
        let key = want["key"].as_str().unwrap();
        let got = model
            .metadata_value(key)
            .unwrap_or_else(|| panic!("missing key {key}"));
        check_value(key, got, want);
        assert_eq!(
            model.metadata_u64(key),
            expected_u64(want),
            "{key}: metadata_u64"
        );
        assert_eq!(
            model.metadata_str(key),
            want["v"].as_str(),
            "{key}: metadata_str"
        );
    }
    assert_eq!(model.metadata_str("general.architecture"), Some("llama"));
    assert_eq!(model.metadata_u64("test.u64"), Some(u64::MAX));
    assert_eq!(model.metadata_u64("test.i32"), None, "negative");
    assert_eq!(model.metadata_u64("test.i32_positive"), Some(77));

    // Tensors: names in file order, dims (ggml order = numpy shape
    // reversed), types, offsets, sizes and every value, bit for bit.
    let want_tensors = m["tensors"].as_array().unwrap();
    let infos = model.tensor_infos();
    assert_eq!(infos.len(), want_tensors.len());
    let pool = ScratchPool::new(4096);
    for (info, want) in infos.iter().zip(want_tensors) {
        let name = want["name"].as_str().unwrap();
        assert_eq!(info.name, name);
        let dims: Vec<u64> = want["dims"]
            .as_array()
            .unwrap()
            .iter()
            .map(as_u64)
            .collect();
        let mut numpy_reversed: Vec<u64> = want["numpy_shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(as_u64)
            .collect();
        numpy_reversed.reverse();
        assert_eq!(info.dims, dims, "{name}: dims as gguf's reader sees them");
        assert_eq!(
            info.dims, numpy_reversed,
            "{name}: dims = numpy shape reversed"
        );
        assert_eq!(
            u64::from(info.ggml_type),
            as_u64(&want["ggml_type"]),
            "{name}: type"
        );
        assert_eq!(info.offset, as_u64(&want["offset"]), "{name}: offset");
        assert_eq!(
            info.n_bytes(),
            Some(as_u64(&want["n_bytes"])),
            "{name}: bytes"
        );
        assert_eq!(info.offset % model.alignment(), 0, "{name}: aligned");

        let bits = |values: &[f32]| {
            values
                .iter()
                .map(|x| u64::from(x.to_bits()))
                .collect::<Vec<_>>()
        };
        let want_bits: Option<Vec<u64>> = want
            .get("f32_bits")
            .map(|b| b.as_array().unwrap().iter().map(as_u64).collect());
        match info.ggml_type {
            0 => {
                let view = model.tensor_f32(name).expect("F32 view");
                assert_eq!(Some(bits(view)), want_bits, "{name}: zero-copy values");
                let copy = model.dequantize_into(name, &pool).expect("F32 copy");
                assert_eq!(Some(bits(copy)), want_bits, "{name}: copied values");
            }
            1 => {
                assert!(matches!(
                    model.tensor_f32(name),
                    Err(LoadError::NotF32 { .. })
                ));
                let copy = model.dequantize_into(name, &pool).expect("F16 conversion");
                assert_eq!(
                    Some(bits(copy)),
                    want_bits,
                    "{name}: f16 -> f32, bit for bit"
                );
            }
            _ => {
                assert!(matches!(
                    model.tensor_f32(name),
                    Err(LoadError::NotF32 { .. })
                ));
                assert!(matches!(
                    model.dequantize_into(name, &pool),
                    Err(LoadError::Unsupported { .. })
                ));
            }
        }
    }
}

#[test]
fn reads_files_written_by_gguf_py() {
    if let Err(why) = python_with_gguf() {
        eprintln!("SKIPPED gguf_interop: {why}");
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    check_file(dir.path(), None);
    check_file(dir.path(), Some(64));
}
