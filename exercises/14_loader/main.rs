//! Driver for the `loader` capstone. Do not edit: complete `loader.rs`.
//!
//! It writes its own GGUF files (no binary blob in the repository): a small
//! model with one 4 MiB tensor, and many broken or borderline files. It
//! loads the model, asks /proc/self/maps where the views point, shares the
//! loader, breaks files in many ways (up to counts, lengths and offsets
//! near 2^64), pushes the scratch pool to its limits, and finally unloads
//! the model and checks that the file is no longer mapped.

use std::error::Error;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::ptr;
use std::sync::Arc;
use std::thread;

use crate::loader::{LoadError, MetaValue, ModelLoader, ScratchPool};

const MODEL: &str = "model.gguf";

// ---------------------------------------------------------------------------
// A minimal GGUF v3 writer (just enough to produce test files)
// ---------------------------------------------------------------------------

/// Tensor payloads the writer understands.
enum Data {
    F32(Vec<f32>),
    /// Raw IEEE half-float bits.
    F16(Vec<u16>),
    /// Any other ggml type id, with its bytes already encoded (for example
    /// quantised blocks). The writer copies them as they are.
    Raw(u32, Vec<u8>),
    /// `n` f32s 0, 1, 2, 3, 0, 1, 2, 3, ... that never exist in memory:
    /// `save` generates them while writing the file. Last tensor only.
    Counting(usize),
}

struct TensorSpec {
    name: &'static str,
    /// ggml order: `dims[0]` varies fastest.
    dims: Vec<u64>,
    data: Data,
}

fn tensor(name: &'static str, dims: &[u64], data: Data) -> TensorSpec {
    let dims = dims.to_vec();
    TensorSpec { name, dims, data }
}

/// Where the writer put some fields, so that the malformed cases can
/// corrupt exactly one field of an otherwise valid file.
#[derive(Default)]
struct Marks {
    /// Position of each metadata entry's value-type field.
    kv_type_at: Vec<usize>,
    /// Position of the `general.alignment` value, if written.
    alignment_at: Option<usize>,
    /// Per tensor: position of its name's length, of its first dimension,
    /// of its ggml type and of its offset field.
    info_at: Vec<usize>,
    dims_at: Vec<usize>,
    type_at: Vec<usize>,
    offset_at: Vec<usize>,
    /// Per tensor: absolute position of its data.
    data_at: Vec<usize>,
    /// End of the tensor infos, and the aligned start of the data section.
    header_end: usize,
    data_start: usize,
}

/// GGUF type id of a value (the order of the `MetaValue` variants).
fn type_id(value: &MetaValue) -> u32 {
    match value {
        MetaValue::U8(_) => 0,
        MetaValue::I8(_) => 1,
        MetaValue::U16(_) => 2,
        MetaValue::I16(_) => 3,
        MetaValue::U32(_) => 4,
        MetaValue::I32(_) => 5,
        MetaValue::F32(_) => 6,
        MetaValue::Bool(_) => 7,
        MetaValue::Str(_) => 8,
        MetaValue::Array(_) => 9,
        MetaValue::U64(_) => 10,
        MetaValue::I64(_) => 11,
        MetaValue::F64(_) => 12,
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Writes a value without its type id (arrays store the element type once).
fn put_value(out: &mut Vec<u8>, value: &MetaValue) {
    match value {
        MetaValue::U8(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::I8(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::U16(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::I16(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::U32(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::I32(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::F32(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::Bool(v) => out.push(u8::from(*v)),
        MetaValue::Str(s) => put_str(out, s),
        MetaValue::Array(items) => {
            let elem_type = items.first().map_or(0, type_id);
            out.extend_from_slice(&elem_type.to_le_bytes());
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for item in items {
                put_value(out, item);
            }
        }
        MetaValue::U64(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::I64(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::F64(v) => out.extend_from_slice(&v.to_le_bytes()),
    }
}

/// Serialises a complete GGUF v3 file, padding the data section and every
/// tensor to the alignment (`general.alignment` if given, else 32).
fn write_gguf(metadata: &[(&str, MetaValue)], tensors: &[TensorSpec]) -> (Vec<u8>, Marks) {
    let alignment = metadata
        .iter()
        .find_map(|(k, v)| match (k, v) {
            (&"general.alignment", MetaValue::U32(a)) => Some(*a as usize),
            _ => None,
        })
        .unwrap_or(32);
    let pad = |out: &mut Vec<u8>| out.resize(out.len().next_multiple_of(alignment), 0);
    let mut out = Vec::new();
    let mut marks = Marks::default();

    out.extend_from_slice(b"GGUF");
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
    out.extend_from_slice(&(metadata.len() as u64).to_le_bytes());
    for (key, value) in metadata {
        put_str(&mut out, key);
        marks.kv_type_at.push(out.len());
        out.extend_from_slice(&type_id(value).to_le_bytes());
        if *key == "general.alignment" {
            marks.alignment_at = Some(out.len());
        }
        put_value(&mut out, value);
    }

    let payload_len = |t: &TensorSpec| match &t.data {
        Data::F32(v) => v.len() * 4,
        Data::F16(v) => v.len() * 2,
        Data::Raw(_, bytes) => bytes.len(),
        Data::Counting(n) => n * 4,
    };
    let mut offset = 0;
    for t in tensors {
        marks.info_at.push(out.len());
        put_str(&mut out, t.name);
        out.extend_from_slice(&(t.dims.len() as u32).to_le_bytes());
        marks.dims_at.push(out.len());
        for d in &t.dims {
            out.extend_from_slice(&d.to_le_bytes());
        }
        let ggml_type: u32 = match t.data {
            Data::F32(_) | Data::Counting(_) => 0,
            Data::F16(_) => 1,
            Data::Raw(ggml_type, _) => ggml_type,
        };
        marks.type_at.push(out.len());
        out.extend_from_slice(&ggml_type.to_le_bytes());
        marks.offset_at.push(out.len());
        out.extend_from_slice(&(offset as u64).to_le_bytes());
        offset += payload_len(t).next_multiple_of(alignment);
    }

    marks.header_end = out.len();
    pad(&mut out);
    marks.data_start = out.len();
    for (i, t) in tensors.iter().enumerate() {
        marks.data_at.push(out.len());
        match &t.data {
            Data::F32(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Data::F16(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Data::Raw(_, bytes) => out.extend_from_slice(bytes),
            Data::Counting(_) => {
                // `save` appends the data, and no padding: the file ends
                // exactly where this tensor does.
                assert_eq!(i + 1, tensors.len(), "only the last tensor can be streamed");
                break;
            }
        }
        pad(&mut out);
    }
    (out, marks)
}

/// Writes `bytes` (from `write_gguf`) to `path`, followed by the data of a
/// final `Data::Counting` tensor, generated 4 KiB at a time in a stack
/// buffer: those megabytes never exist on the heap, neither in this driver
/// nor, with a zero-copy loader, anywhere else. Returns the file's length.
fn save(path: &str, bytes: &[u8], tensors: &[TensorSpec]) -> io::Result<usize> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    let mut len = bytes.len();
    if let Some(Data::Counting(n)) = tensors.last().map(|t| &t.data) {
        let mut chunk = [0u8; 4096];
        for first in (0..*n).step_by(1024) {
            let count = (n - first).min(1024);
            for (i, word) in chunk.chunks_exact_mut(4).take(count).enumerate() {
                word.copy_from_slice(&(((first + i) % 4) as f32).to_le_bytes());
            }
            file.write_all(&chunk[..count * 4])?;
        }
        len += n * 4;
    }
    Ok(len)
}

/// A GGUF v3 header with these counts and nothing after it (24 bytes).
fn bare_header(tensor_count: u64, kv_count: u64) -> Vec<u8> {
    let mut out = b"GGUF".to_vec();
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&tensor_count.to_le_bytes());
    out.extend_from_slice(&kv_count.to_le_bytes());
    out
}

/// A file whose only key holds `depth` nested one-element arrays around a
/// u8 (`nested(depth)`), written piece by piece: megabytes for a large
/// `depth`, but never more than `BufWriter`'s buffer in memory.
fn write_deep(path: &str, depth: usize) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    let mut head = bare_header(0, 1);
    put_str(&mut head, "memlings.deep");
    head.extend_from_slice(&9u32.to_le_bytes()); // the value is an array...
    out.write_all(&head)?;
    for _ in 1..depth {
        out.write_all(&9u32.to_le_bytes())?; // ...of arrays
        out.write_all(&1u64.to_le_bytes())?; // of one element
    }
    out.write_all(&0u32.to_le_bytes())?; // the innermost holds one u8
    out.write_all(&1u64.to_le_bytes())?;
    out.write_all(&[1])?;
    out.flush()
}

/// f32 -> f16 bits for the small, exactly representable values used here.
fn f16_bits(x: f32) -> u16 {
    if x == 0.0 {
        return 0;
    }
    let bits = x.to_bits();
    let sign = (bits >> 16) & 0x8000;
    let exponent = ((bits >> 23) & 0xff) + 15 - 127; // re-bias: f32 127 -> f16 15
    let mantissa = (bits >> 13) & 0x3ff;
    assert!(
        exponent > 0 && exponent < 31 && bits & 0x1fff == 0,
        "{x} is not an exact f16"
    );
    (sign | (exponent << 10) | mantissa) as u16
}

// ---------------------------------------------------------------------------
// The model: a one-layer "llama" with tied embeddings
// ---------------------------------------------------------------------------

const TOKENS: [&str; 6] = ["<s>", "</s>", "hi", "bye", "memory", "mapped"];
const N_EMBD: usize = 4;

fn model_metadata() -> Vec<(&'static str, MetaValue)> {
    use MetaValue::*;
    // Arrays nested two deep: [[0, 1], [2]].
    let nested = Array(vec![Array(vec![U16(0), U16(1)]), Array(vec![U16(2)])]);
    vec![
        ("general.architecture", Str("llama".into())),
        ("general.name", Str("memlings-tiny".into())),
        ("general.alignment", U32(64)),
        ("llama.context_length", U32(128)),
        ("llama.embedding_length", U64(N_EMBD as u64)),
        ("llama.block_count", U16(1)),
        ("llama.expert_count", U8(3)),
        ("llama.rope.freq_base", F32(10000.0)),
        (
            "tokenizer.ggml.tokens",
            Array(TOKENS.iter().map(|t| Str(t.to_string())).collect()),
        ),
        (
            "tokenizer.ggml.token_type",
            Array(vec![I32(3), I32(3), I32(1), I32(1), I32(1), I32(1)]),
        ),
        ("tokenizer.ggml.add_bos_token", Bool(true)),
        ("memlings.types.i8", I8(-8)),
        ("memlings.types.i16", I16(-1600)),
        ("memlings.types.i64", I64(-(1 << 40))),
        ("memlings.types.f64", F64(0.1)),
        ("memlings.types.nested", nested),
    ]
}

/// The big tensor that makes `model.gguf` worth mapping: 2^20 f32s (4 MiB).
const BIG: &str = "blk.0.ffn_down.weight";
const BIG_FLOATS: usize = 1 << 20;

/// The model's small tensors. `main` adds the 4 MiB one for `model.gguf`;
/// the malformed files of section 5 are built from these alone.
fn model_tensors() -> Vec<TensorSpec> {
    let embd: Vec<f32> = (0..24).map(|i| i as f32 * 0.25 - 1.0).collect();
    let norm: Vec<f32> = vec![0.5, 1.0, 1.5, 2.0];
    let q: Vec<u16> = (0..16).map(|i| f16_bits((i as f32 - 8.0) * 0.5)).collect();
    // Three experts of 4x2 weights; expert e holds the value e + 1.
    let experts: Vec<f32> = (0..24).map(|i| (i / 8 + 1) as f32).collect();
    vec![
        tensor("token_embd.weight", &[4, 6], Data::F32(embd)),
        tensor("blk.0.attn_norm.weight", &[4], Data::F32(norm)),
        tensor("blk.0.attn_q.weight", &[4, 4], Data::F16(q)),
        tensor("blk.0.ffn_up_exps.weight", &[4, 2, 3], Data::F32(experts)),
        tensor("output_norm.weight", &[4], Data::F32(vec![1.0; 4])),
    ]
}

// ---------------------------------------------------------------------------
// Consumers sharing the loader
// ---------------------------------------------------------------------------

/// A part of the model that reads weights. It owns a *handle* to the loader
/// (C++: a `std::shared_ptr`), never a copy of the weights.
struct Consumer {
    role: &'static str,
    tensor: &'static str,
    model: Arc<ModelLoader>,
}

impl Consumer {
    /// Zero-copy: the slice points into the mapped file.
    fn weights(&self) -> Result<&[f32], LoadError> {
        self.model.tensor_f32(self.tensor)
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        // Our `Arc` is released right after this body runs.
        let count = Arc::strong_count(&self.model);
        println!(
            "drop {}: releases its handle (strong count {count} -> {})",
            self.role,
            count - 1
        );
    }
}

// ---------------------------------------------------------------------------
// Output helpers
// ---------------------------------------------------------------------------

fn section(title: &str) {
    println!();
    println!("== {title} ==");
}

fn sum(values: &[f32]) -> f32 {
    values.iter().sum()
}

/// Reports what `open` thinks of an existing, broken `file`.
fn report_open(label: &str, file: &str) {
    match ModelLoader::open(file) {
        Ok(_) => println!("{label:<24} unexpectedly loaded!"),
        Err(e) => println!("{label:<24} {e}"),
    }
}

/// Writes `bytes` to `file` and reports what `open` thinks of it.
fn try_open(label: &str, file: &str, bytes: &[u8]) -> Result<(), Box<dyn Error>> {
    fs::write(file, bytes)?;
    report_open(label, file);
    Ok(())
}

/// Like `try_open`, but for a file that sits exactly *at* one of the
/// loader's limits and must therefore load. Prints what the loader read,
/// and the view of every F32 tensor; the loader is dropped (and the file
/// unmapped) on return.
fn expect_open(label: &str, file: &str, bytes: &[u8]) -> Result<(), Box<dyn Error>> {
    fs::write(file, bytes)?;
    match ModelLoader::open(file) {
        Ok(model) => {
            let mut seen = Vec::new();
            for (key, value) in model.metadata() {
                seen.push(format!("{key} = {value}"));
            }
            for t in model.tensor_infos() {
                let (name, ty, dims) = (&t.name, t.type_name(), &t.dims);
                match model.tensor_f32(name) {
                    Ok(view) => seen.push(format!("tensor `{name}` {ty} {dims:?} = {view:?}")),
                    Err(e) => seen.push(format!("tensor `{name}` {ty} {dims:?} ({e})")),
                }
            }
            println!("{label:<24} loads: {}", seen.join(", "));
        }
        Err(e) => println!("{label:<24} wrongly rejected: {e}"),
    }
    Ok(())
}

/// One `alloc_f32` request and its outcome.
fn try_alloc(pool: &ScratchPool, label: &str, len: usize) {
    match pool.alloc_f32(len) {
        Ok(buf) => println!(
            "{label}: {} floats, used {} of {} bytes",
            buf.len(),
            pool.used(),
            pool.capacity()
        ),
        Err(e) => println!("{label}: {e}"),
    }
}

// ---------------------------------------------------------------------------
// Where memory lives, according to the kernel (/proc/self/maps)
// ---------------------------------------------------------------------------

/// One line of /proc/self/maps.
struct Region {
    start: usize,
    end: usize,
    /// Offset in the file of `start` (0 for anonymous memory).
    offset: u64,
    /// The mapped file's absolute path, or `[heap]`, `[stack]`, "" (anonymous).
    path: String,
}

fn regions() -> Result<Vec<Region>, Box<dyn Error>> {
    let maps = fs::read_to_string("/proc/self/maps")?;
    let mut regions = Vec::new();
    for line in maps.lines() {
        // "start-end perms offset dev inode [path]"
        let mut fields = line.split_whitespace();
        let range = fields.next().and_then(|r| r.split_once('-'));
        let (_perms, offset) = (fields.next(), fields.next());
        let (_dev, _inode) = (fields.next(), fields.next());
        let path = fields.collect::<Vec<_>>().join(" ");
        let ((start, end), offset) = range.zip(offset).ok_or("malformed /proc/self/maps")?;
        regions.push(Region {
            start: usize::from_str_radix(start, 16)?,
            end: usize::from_str_radix(end, 16)?,
            offset: u64::from_str_radix(offset, 16)?,
            path,
        });
    }
    Ok(regions)
}

fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// Where the floats of a view are: in which mapped file, at which file
/// offset, or else in which kind of memory (a copy).
fn locate(view: &[f32]) -> Result<String, Box<dyn Error>> {
    let addr = view.as_ptr().addr();
    let regions = regions()?;
    let Some(r) = regions.iter().find(|r| (r.start..r.end).contains(&addr)) else {
        return Ok("outside every mapping".to_owned());
    };
    Ok(if r.path.starts_with('/') {
        let at = r.offset + (addr - r.start) as u64;
        format!("in the mapping of {}, file offset {at}", file_name(&r.path))
    } else if r.path.is_empty() {
        "in anonymous memory: a copy, not the file".to_owned()
    } else {
        format!("in {}: a copy, not the file", r.path)
    })
}

/// The `.gguf` files this process has mapped right now.
fn mapped_gguf_files() -> Result<Vec<String>, Box<dyn Error>> {
    let mut names: Vec<String> = regions()?
        .iter()
        .map(|r| file_name(&r.path))
        .filter(|name| name.ends_with(".gguf"))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

fn is_mapped(file: &str) -> Result<bool, Box<dyn Error>> {
    Ok(mapped_gguf_files()?.iter().any(|name| name == file))
}

/// `depth` arrays around a single `u8`: `nested(2)` is `[[1]]`.
fn nested(depth: usize) -> MetaValue {
    let mut value = MetaValue::U8(1);
    for _ in 0..depth {
        value = MetaValue::Array(vec![value]);
    }
    value
}

fn patch(bytes: &[u8], at: usize, new: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at..at + new.len()].copy_from_slice(new);
    out
}

/// Section 2: what `open` learned from the header.
fn print_header(model: &ModelLoader) {
    println!(
        "{}: GGUF v{}, alignment {}, {} tensors, data section at byte {} of {}",
        model.path().display(),
        model.version(),
        model.alignment(),
        model.tensor_infos().len(),
        model.data_offset(),
        model.file_len()
    );
    for (key, value) in model.metadata() {
        println!("  {key:<30} {:<5} {value}", value.type_name());
    }
    for key in ["general.architecture", "llama.context_length"] {
        println!("metadata_str({key}) = {:?}", model.metadata_str(key));
    }
    for key in [
        "llama.context_length",
        "llama.expert_count",
        "memlings.types.i8",
        "general.name",
        "no.such.key",
    ] {
        println!("metadata_u64({key}) = {:?}", model.metadata_u64(key));
    }
}

/// Section 3: the tensor table, and a sum over every tensor.
fn print_tensors(model: &ModelLoader, pool: &ScratchPool) -> Result<(), Box<dyn Error>> {
    println!(
        "  {:<26} {:<4} {:<11} {:>6} {:>7}",
        "name", "type", "dims", "offset", "bytes"
    );
    for t in model.tensor_infos() {
        let dims = format!("{:?}", t.dims);
        let bytes = t.n_bytes().unwrap_or(0);
        let (name, ty, offset) = (&t.name, t.type_name(), t.offset);
        println!("  {name:<26} {ty:<4} {dims:<11} {offset:>6} {bytes:>7}");
    }
    println!("sums:");
    for t in model.tensor_infos() {
        match model.tensor_f32(&t.name) {
            Ok(view) => println!(
                "  {:<26} {} (zero-copy view of {} floats)",
                t.name,
                sum(view),
                view.len()
            ),
            Err(e) => {
                println!("  {:<26} tensor_f32: {e}", t.name);
                let copy = model.dequantize_into(&t.name, pool)?;
                println!(
                    "  {:<26} {} (dequantize_into: {} floats copied into the pool)",
                    "",
                    sum(copy),
                    copy.len()
                );
            }
        }
    }
    match model.tensor_f32("output.weight") {
        Ok(_) => println!("output.weight: present"),
        Err(e) => println!("output.weight: {e}, so the lm_head reuses token_embd.weight"),
    }
    // Zero copy, checked with the kernel's own list of this process's
    // memory: a view must point into the mapped file, at the tensor's bytes.
    println!(
        "where the views point (data section at {}):",
        model.data_offset()
    );
    for t in model.tensor_infos() {
        if let Ok(view) = model.tensor_f32(&t.name) {
            println!("  {:<26} offset {:>4}: {}", t.name, t.offset, locate(view)?);
        }
    }
    Ok(())
}

/// Section 4: a valid file whose f32 data cannot be viewed in place.
fn alignment_demo(pool: &ScratchPool) -> Result<(), Box<dyn Error>> {
    let tiny = [tensor("t", &[4], Data::F32(vec![1.0, 2.0, 3.0, 4.0]))];
    let (bytes, marks) = write_gguf(&[("general.alignment", MetaValue::U32(1))], &tiny);
    fs::write("align1.gguf", &bytes)?;
    println!(
        "align1.gguf: alignment 1 is legal, and puts the data at byte {}",
        marks.data_start
    );
    let odd = ModelLoader::open("align1.gguf")?;
    match odd.tensor_f32("t") {
        Ok(view) => println!("tensor_f32: {view:?}"),
        Err(e) => println!("tensor_f32: {e}"),
    }
    let copy = odd.dequantize_into("t", pool)?;
    println!("dequantize_into reads bytes, so alignment does not matter: {copy:?}");
    Ok(())
}

/// Section 5: most files here are the model without its 4 MiB tensor
/// (`good`) with one field broken; the others are small files written for
/// one check. Each line is one `LoadError`, or a file exactly at a limit
/// that must still load.
fn malformed_files() -> Result<(), Box<dyn Error>> {
    let (good, marks) = write_gguf(&model_metadata(), &model_tensors());
    let good = good.as_slice();
    report_open("missing file", "missing.gguf");
    try_open("empty file", "empty.gguf", &[])?;
    let magic = patch(good, 0, b"PK\x03\x04"); // a zip, e.g. a PyTorch checkpoint
    try_open("bad magic", "bad_magic.gguf", &magic)?;
    let version = patch(good, 4, &1u32.to_le_bytes());
    try_open("version 1", "bad_version.gguf", &version)?;
    try_open("truncated header", "truncated.gguf", &good[..20])?;

    // --- counts: a promise the file may not keep ---
    // These files end right after their counts (or after the two elements
    // of one array). The loader must fail where the first missing record
    // would start, without first reserving room for 2^61 records.
    for (n, count) in [("2^61", 1u64 << 61), ("2^64 - 1", u64::MAX)] {
        let kv_count = bare_header(0, count);
        try_open(&format!("metadata count {n}"), "kv_count.gguf", &kv_count)?;
        let tensor_count = bare_header(count, 0);
        try_open(
            &format!("tensor count {n}"),
            "tensor_count.gguf",
            &tensor_count,
        )?;
        let mut array = bare_header(0, 1);
        put_str(&mut array, "memlings.lie");
        array.extend_from_slice(&9u32.to_le_bytes()); // an array
        array.extend_from_slice(&0u32.to_le_bytes()); // of u8
        array.extend_from_slice(&count.to_le_bytes());
        array.extend_from_slice(&[7, 8]); // but only two of them
        try_open(&format!("array count {n}"), "array_count.gguf", &array)?;
    }

    // --- strings: a u64 length, then the bytes ---
    // Each length below becomes 2^64 - 1: the first key (its length prefix
    // is at offset 24), the first key's value "llama", the first string in
    // the `tokenizer.ggml.tokens` array (after the array's element type and
    // count), and the first tensor's name.
    let max = u64::MAX.to_le_bytes();
    let tokens_at = marks.kv_type_at[8] + 4 + 4 + 8;
    for (label, at) in [
        ("key length 2^64 - 1", 24),
        ("value length 2^64 - 1", marks.kv_type_at[0] + 4),
        ("array string 2^64 - 1", tokens_at),
        ("tensor name 2^64 - 1", marks.info_at[0]),
    ] {
        try_open(label, "bad_string.gguf", &patch(good, at, &max))?;
    }
    // Exactly at the limit: the only value, the 7-byte string "the end",
    // ends on the file's last byte (byte 64, also the aligned start of an
    // empty data section). It loads; a length of 8 does not.
    let mut at_end = bare_header(0, 1);
    put_str(&mut at_end, "memlings.last");
    at_end.extend_from_slice(&8u32.to_le_bytes());
    let len_at = at_end.len();
    put_str(&mut at_end, "the end");
    expect_open("string ends at file end", "string_end.gguf", &at_end)?;
    let past = patch(&at_end, len_at, &8u64.to_le_bytes());
    try_open("string 1 byte too long", "string_past.gguf", &past)?;
    // The value of the first key is the string "llama": after its type id
    // (4 bytes) and length (8 bytes) comes the text. Its first byte becomes
    // 0xff, a byte that never occurs in UTF-8.
    let text_at = marks.kv_type_at[0] + 4 + 8;
    let utf8 = patch(good, text_at, b"\xff");
    try_open("invalid UTF-8", "bad_utf8.gguf", &utf8)?;

    // --- value types and nesting ---
    let value_type = patch(good, marks.kv_type_at[1], &13u32.to_le_bytes());
    try_open("unknown value type", "bad_type.gguf", &value_type)?;
    // An array stores its element type right after its own type id. Type 13
    // is rejected even though the array is empty and no element is read.
    let (empty, empty_marks) = write_gguf(&[("memlings.empty", MetaValue::Array(vec![]))], &[]);
    let elem_type = patch(&empty, empty_marks.kv_type_at[0] + 4, &13u32.to_le_bytes());
    try_open("unknown element type", "bad_elem_type.gguf", &elem_type)?;
    // Exactly at the limit: 8 levels load, 9 do not.
    let (deep8, _) = write_gguf(&[("memlings.deep", nested(8))], &[]);
    expect_open("arrays nested 8 deep", "deep8.gguf", &deep8)?;
    let (deep, _) = write_gguf(&[("memlings.deep", nested(9))], &[]);
    try_open("arrays nested 9 deep", "deep.gguf", &deep)?;
    // 100000 levels (1.2 MB of array headers): a loader that recursed once
    // per level without a limit would overflow its stack.
    write_deep("deep100000.gguf", 100_000)?;
    report_open("arrays nested 10^5 deep", "deep100000.gguf");

    // --- alignment ---
    let alignment_at = marks.alignment_at.ok_or("no alignment key")?;
    for (label, bad) in [
        ("alignment 48", 48),
        // Zero is not a power of two (and rounding up to a multiple of 0 is
        // meaningless).
        ("alignment 0", 0),
        ("alignment 2^32 - 1", u32::MAX),
    ] {
        let alignment = patch(good, alignment_at, &u32::to_le_bytes(bad));
        try_open(label, "bad_alignment.gguf", &alignment)?;
    }
    // The same four bytes, 64, but typed i32 (id 5) instead of u32.
    let signed = patch(good, alignment_at - 4, &5u32.to_le_bytes());
    try_open("alignment stored as i32", "i32_alignment.gguf", &signed)?;
    // A page-sized alignment is legal: the data section starts at 4096.
    let four_floats = || Data::F32(vec![1.0, 2.0, 3.0, 4.0]);
    let page = [("general.alignment", MetaValue::U32(4096))];
    let (page, _) = write_gguf(&page, &[tensor("t", &[4], four_floats())]);
    expect_open("alignment 4096", "align4096.gguf", &page)?;
    // The largest u32 power of two is legal too, but then the data section
    // starts at 2 GiB, far past the end of this small file.
    let small = [("general.alignment", MetaValue::U32(32))];
    let (small, small_marks) = write_gguf(&small, &[tensor("t", &[4], four_floats())]);
    let small_alignment_at = small_marks.alignment_at.ok_or("no alignment key")?;
    let huge = patch(&small, small_alignment_at, &(1u32 << 31).to_le_bytes());
    try_open("alignment 2^31", "align2g.gguf", &huge)?;

    // --- tensor infos ---
    // Exactly at the limit: ggml tensors have up to 4 dimensions.
    let (four, _) = write_gguf(&[], &[tensor("t", &[2, 1, 2, 1], four_floats())]);
    expect_open("4 dimensions", "dims4.gguf", &four)?;
    let (five, _) = write_gguf(&[], &[tensor("t", &[2, 1, 2, 1, 1], four_floats())]);
    try_open("5 dimensions", "dims5.gguf", &five)?;
    // 2^32 - 1 dimensions would be 32 GiB of u64s: rejected before any is read.
    let n_dims = patch(good, marks.dims_at[1] - 4, &u32::MAX.to_le_bytes());
    try_open("2^32 - 1 dimensions", "n_dims.gguf", &n_dims)?;
    // No dimensions is a scalar (one element); a zero dimension is an empty
    // tensor, here the last one: its 0 bytes start exactly at the end of the file.
    let edge = [
        tensor("scalar", &[], Data::F32(vec![42.0])),
        tensor("empty", &[4, 0], Data::F32(vec![])),
    ];
    let (edge, _) = write_gguf(&[], &edge);
    expect_open("0-D and empty tensors", "edge.gguf", &edge)?;
    // ne0 = ne1 = 2^32 for the 3-D tensor: 2^64 * 3 elements.
    let huge = [1u64 << 32, 1 << 32].map(u64::to_le_bytes).concat();
    let dims = patch(good, marks.dims_at[3], &huge);
    try_open("dimension overflow", "bad_dims.gguf", &dims)?;
    // 2^62 f32s: the element count fits in a u64, their 2^64 bytes do not.
    let bytes = patch(good, marks.dims_at[1], &(1u64 << 62).to_le_bytes());
    try_open("byte size overflow", "bad_size.gguf", &bytes)?;
    // Type ids 4 and 5 (Q4_2, Q4_3) were removed from ggml long ago.
    let ggml_type = patch(good, marks.type_at[1], &4u32.to_le_bytes());
    try_open("unknown ggml type", "bad_ggml_type.gguf", &ggml_type)?;
    // Q8_0 (type 8) packs 32 values into one 34-byte block, and every row
    // (ne0 values) must consist of whole blocks. These 2 rows of 16 values
    // hold 32 values in total, but each row is only half a block.
    let half_rows = [tensor("q", &[16, 2], Data::Raw(8, vec![0; 34]))];
    let (half_rows, _) = write_gguf(&[], &half_rows);
    try_open("partial Q8_0 block", "bad_block.gguf", &half_rows)?;
    let offset = patch(good, marks.offset_at[1], &160u64.to_le_bytes());
    try_open("misaligned offset", "bad_offset.gguf", &offset)?;
    // Offsets near 2^64, both multiples of the alignment. 2^64 - 64 plus
    // the data section's start does not fit in a u64 (wrapped around, it
    // would land inside the file); the sum saturates at 2^64 - 1.
    let near_max = u64::MAX - 63;
    let wraps = patch(good, marks.offset_at[1], &near_max.to_le_bytes());
    try_open("offset 2^64 - 64", "offset_wraps.gguf", &wraps)?;
    // Here the start, data section + offset, is exactly 2^64 - 64: it fits,
    // but the end, 96 bytes of token_embd.weight later, does not.
    let start_fits = near_max - marks.data_start as u64;
    let end_wraps = patch(good, marks.offset_at[0], &start_fits.to_le_bytes());
    try_open("offset + size past 2^64", "end_wraps.gguf", &end_wraps)?;
    // A download that stopped in the middle of the last tensor.
    let last = marks.data_at.last().ok_or("no tensors")?;
    try_open("data past end", "cut.gguf", &good[..last + 8])?;
    // Exactly at the limit: the file ends on the last byte of the last
    // tensor (16 bytes at data_at). It loads; one byte less does not.
    let (one, one_marks) = write_gguf(&[], &[tensor("t", &[4], four_floats())]);
    let end = one_marks.data_at[0] + 16;
    expect_open("tensor ends at file end", "tensor_end.gguf", &one[..end])?;
    try_open("tensor 1 byte short", "tensor_short.gguf", &one[..end - 1])?;

    // --- a valid file the loader still cannot fully use ---
    // One whole Q8_0 block (an all-zero one: scale 0, 32 quants of 0). It
    // opens fine, but this loader only converts F32 and F16.
    let q8 = [tensor("q", &[32], Data::Raw(8, vec![0; 34]))];
    let (q8, _) = write_gguf(&[], &q8);
    fs::write("q8_0.gguf", &q8)?;
    let model = ModelLoader::open("q8_0.gguf")?;
    // A pool of its own with room for all 32 floats, so that the only
    // possible failure is the type.
    let pool = ScratchPool::new(32 * 4);
    match model.dequantize_into("q", &pool) {
        Ok(_) => println!("{:<24} unexpectedly converted!", "Q8_0 tensor"),
        Err(e) => println!("{:<24} opens, but dequantize_into: {e}", "Q8_0 tensor"),
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    println!("memlings capstone: a zero-copy GGUF loader");

    section("1. writing model.gguf");
    let mut tensors = model_tensors();
    tensors.push(tensor(BIG, &[1 << 18, 4], Data::Counting(BIG_FLOATS)));
    let (head, marks) = write_gguf(&model_metadata(), &tensors);
    let file_len = save(MODEL, &head, &tensors)?;
    println!(
        "{file_len} bytes: header {} bytes, padded to the data section at {}",
        marks.header_end, marks.data_start
    );
    println!(
        "the last {} bytes, {BIG}, went straight from a 4 KiB stack buffer into the file",
        BIG_FLOATS * 4
    );

    // The pool is declared first so that it is dropped last: scratch
    // buffers borrow it, and one of them outlives the model below.
    let mut pool = ScratchPool::new(192);
    let kept: &[f32];

    {
        section("2. header and metadata");
        let model = Arc::new(ModelLoader::open(MODEL)?);
        print_header(&model);

        section("3. tensors (dims in ggml order, ne0 first)");
        print_tensors(&model, &pool)?;

        section("4. zero-copy needs alignment");
        alignment_demo(&pool)?;

        section("5. malformed files");
        malformed_files()?;

        section("6. sharing one loader");
        let embed = Consumer {
            role: "embed",
            tensor: "token_embd.weight",
            model: Arc::clone(&model),
        };
        let lm_head = Consumer {
            role: "lm_head",
            tensor: "token_embd.weight",
            model: Arc::clone(&model),
        };
        println!(
            "main, embed and lm_head hold handles: strong count {}",
            Arc::strong_count(&model)
        );
        println!(
            "embed and lm_head read the same mapped bytes: {}",
            ptr::eq(embed.weights()?, lm_head.weights()?)
        );

        let token = 2;
        let row = embed
            .weights()?
            .chunks_exact(N_EMBD)
            .nth(token)
            .ok_or("no such token")?;
        println!("embed(token {token} {:?}) = {row:?}", TOKENS[token]);

        // lm_head: one logit per token, written into a scratch buffer.
        let hidden = [1.0f32; N_EMBD];
        let logits = pool.alloc_f32(TOKENS.len())?;
        for (logit, w) in logits
            .iter_mut()
            .zip(lm_head.weights()?.chunks_exact(N_EMBD))
        {
            *logit = w.iter().zip(&hidden).map(|(a, b)| a * b).sum();
        }
        let best = (0..logits.len())
            .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
            .ok_or("no logits")?;
        println!(
            "lm_head(h = {hidden:?}) logits = {logits:?} -> token {best} {:?}",
            TOKENS[best]
        );

        // A thread needs a `'static` handle: a borrowed view cannot cross
        // into `thread::spawn`, an `Arc` clone can.
        let worker_model = Arc::clone(&model);
        println!(
            "spawning a worker with its own handle: strong count {}",
            Arc::strong_count(&model)
        );
        let worker = thread::spawn(move || -> Result<Vec<f32>, LoadError> {
            let experts = worker_model.tensor_f32("blk.0.ffn_up_exps.weight")?;
            Ok(experts.chunks_exact(4 * 2).map(sum).collect())
        });
        let expert_sums = worker.join().map_err(|_| "worker panicked")??;
        println!("worker: per-expert sums {expert_sums:?}");
        println!(
            "after join the worker's handle is gone: strong count {}",
            Arc::strong_count(&model)
        );

        section("7. scratch pool");
        println!("used {} of {} bytes", pool.used(), pool.capacity());
        match model.dequantize_into("blk.0.ffn_up_exps.weight", &pool) {
            Ok(copy) => println!("copied {} floats", copy.len()),
            Err(e) => println!("copy of blk.0.ffn_up_exps.weight: {e}"),
        }
        // 40 bytes are free, but they start at 152: aligned to 64, a buffer
        // would start at 192, the end of the pool.
        try_alloc(&pool, "alloc_f32(10) at offset 152", 10);
        // `reset` takes `&mut pool`: this compiles only because no scratch
        // buffer handed out so far (like `logits`) is used after this line.
        pool.reset();
        println!(
            "after reset: used {} of {} bytes",
            pool.used(),
            pool.capacity()
        );
        kept = model.dequantize_into("blk.0.attn_q.weight", &pool)?;
        println!(
            "kept a converted copy of blk.0.attn_q.weight: {} floats, used {} bytes",
            kept.len(),
            pool.used()
        );
        // Absurd requests at a non-zero offset (64): `len * 4` overflows for
        // the first, `64 + len * 4` for the second.
        try_alloc(&pool, "alloc_f32(usize::MAX / 2)", usize::MAX / 2);
        try_alloc(&pool, "alloc_f32(usize::MAX / 4)", usize::MAX / 4);
        // 192 - 64 = 128 bytes are left: room for exactly 32 floats. One
        // float more does not fit; 32 end on the very last byte and must.
        try_alloc(&pool, "alloc_f32(33)", 33);
        match pool.alloc_f32(32) {
            Ok(rest) => {
                // Before the reset, bytes 64..80 and 128..152 held floats
                // (the align1.gguf copy and the logits): a reused region
                // must come back zeroed.
                let zeros = rest.iter().filter(|x| x.to_bits() == 0).count();
                rest.fill(1.0);
                println!(
                    "alloc_f32(32): fits exactly, {zeros} of 32 floats zero, used {} of {} bytes",
                    pool.used(),
                    pool.capacity()
                );
            }
            Err(e) => println!("alloc_f32(32): {e}"),
        }
        try_alloc(&pool, "alloc_f32(1) in a full pool", 1);
        try_alloc(&pool, "alloc_f32(0) in a full pool", 0);
        {
            // The same promise, spelled out: dirty every byte, reset, ask again.
            let mut reused = ScratchPool::new(256);
            reused.alloc_f32(64)?.fill(-1.0);
            reused.reset();
            let again = reused.alloc_f32(64)?;
            let zeros = again.iter().filter(|x| x.to_bits() == 0).count();
            println!("256-byte pool filled with -1.0, reset, alloc_f32(64): {zeros} of 64 zero");
            let empty = ScratchPool::new(0);
            try_alloc(&empty, "ScratchPool::new(0), alloc_f32(0)", 0);
            try_alloc(&empty, "ScratchPool::new(0), alloc_f32(1)", 1);
        }

        section("8. unload");
        // A view cannot outlive the loader. This does not compile:
        //     let view = { let m = ModelLoader::open(MODEL)?; m.tensor_f32("t")? };
        //     error[E0597]: `m` does not live long enough
        drop(model);
        println!(
            "main dropped its handle: strong count {}, {MODEL} still mapped: {}",
            Arc::strong_count(&embed.model),
            is_mapped(MODEL)?
        );
        println!("leaving the scope drops lm_head, then embed (reverse declaration order):");
    }
    println!("back in main: {MODEL} still mapped: {}", is_mapped(MODEL)?);
    println!(
        "the converted copy lives in the pool, not the file: {:?}",
        &kept[..4]
    );
    let mapped = mapped_gguf_files()?;
    if mapped.is_empty() {
        println!("GGUF files still mapped: none");
    } else {
        println!("GGUF files still mapped: {}", mapped.join(", "));
    }
    println!("end of main");
    Ok(())
}
