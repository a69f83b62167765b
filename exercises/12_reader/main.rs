//! Driver for the `reader` exercise. Do not edit: complete `reader.rs`.
//!
//! It builds its inputs byte by byte (GGUF's little-endian encoding), then
//! reads them back: good values, values at the very end of the input, and
//! hostile ones (lengths and counts up to 2^64 - 1, positions near
//! `usize::MAX`, bad UTF-8, unknown types, arrays nested 100 000 deep).
//! After every failed read it prints the position, which must not move.

use crate::reader::{
    MAX_DEPTH, ReadError, Reader, TYPE_ARRAY, TYPE_STRING, TYPE_U8, TYPE_U32, TYPE_U64, Value,
};

/// A little-endian byte writer, enough to build GGUF-style inputs.
#[derive(Default)]
struct Bytes(Vec<u8>);

impl Bytes {
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }
    /// A GGUF string: its length as a u64, then its bytes.
    fn string(self, s: &[u8]) -> Self {
        self.u64(s.len() as u64).raw(s)
    }
    /// An array header: element type, then count.
    fn array(self, elem_type: u32, count: u64) -> Self {
        self.u32(elem_type).u64(count)
    }
}

fn new() -> Bytes {
    Bytes::default()
}

/// Prints a failed read and the position, which must be where it was.
fn failed(what: &str, r: &Reader<'_>, e: ReadError) {
    println!("{what}: {e} (position still {})", r.position());
}

/// Reads one tagged value from `bytes` and shows it, or the error.
fn show_value(what: &str, bytes: &[u8]) {
    let mut r = Reader::new(bytes);
    match r.value() {
        Ok(v) => println!(
            "{what}: {v:?} ({} of {} bytes read)",
            r.position(),
            bytes.len()
        ),
        Err(e) => failed(what, &r, e),
    }
}

/// `Array([Array([... U8(1) ...])])` as nested as `depth` arrays: each
/// level is an array of one array, the innermost an array of one u8.
fn nested(depth: usize) -> Vec<u8> {
    let mut b = new().u32(TYPE_ARRAY);
    for _ in 1..depth {
        b = b.array(TYPE_ARRAY, 1);
    }
    b.array(TYPE_U8, 1).u8(1).0
}

/// How deep a value's arrays go.
fn depth(v: &Value<'_>) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn main() {
    // --- integers: exact ends, and one byte short ---------------------
    let ints = new().u8(0xab).u32(0xdead_beef).u64(u64::MAX).0;
    let mut r = Reader::new(&ints);
    println!("{} bytes, remaining {}", ints.len(), r.remaining());
    match (r.u8(), r.u32(), r.u64()) {
        (Ok(a), Ok(b), Ok(c)) => println!("u8 {a:#x}, u32 {b:#x}, u64 {c}"),
        other => println!("unexpected: {other:?}"),
    }
    println!(
        "at the end: position {}, remaining {}",
        r.position(),
        r.remaining()
    );
    match r.u8() {
        Ok(v) => println!("unexpected: u8 past the end read {v}"),
        Err(e) => failed("u8 at the end", &r, e),
    }
    match r.take(0) {
        Ok(b) => println!("take(0) at the end: {} bytes", b.len()),
        Err(e) => failed("take(0) at the end", &r, e),
    }
    let mut r = Reader::new(&ints[..12]); // the u64 is 1 byte short
    let _ = (r.u8(), r.u32());
    match r.u64() {
        Ok(v) => println!("unexpected: a 7-byte u64 read {v}"),
        Err(e) => failed("u64 with 7 bytes left", &r, e),
    }
    let mut r = Reader::new(&ints[..4]); // the u32 is 1 byte short
    let _ = r.u8();
    match r.u32() {
        Ok(v) => println!("unexpected: a 3-byte u32 read {v}"),
        Err(e) => failed("u32 with 3 bytes left", &r, e),
    }
    let mut empty = Reader::new(&[]);
    match empty.u8() {
        Ok(v) => println!("unexpected: u8 of nothing read {v}"),
        Err(e) => failed("u8 of an empty input", &empty, e),
    }

    // --- take: borrowed, exact, and lengths that overflow -------------
    let mut r = Reader::new(&ints);
    let _ = r.take(5);
    for n in [
        9,
        14,
        u64::MAX,
        u64::MAX - 4,
        usize::MAX as u64 - 1,
        1 << 40,
    ] {
        match r.take(n) {
            Ok(b) => println!("take({n}) at 5: {} bytes", b.len()),
            Err(e) => failed(&format!("take({n}) at 5"), &r, e),
        }
    }
    match r.take(8) {
        Ok(b) => println!(
            "take(8) at 5: {:?}, borrowed from the input {}",
            b,
            b.as_ptr() == ints[5..].as_ptr()
        ),
        Err(e) => failed("take(8) at 5", &r, e),
    }

    // --- strings: borrowed &str, lengths that lie, bad UTF-8 ----------
    let text = "general.name = h\u{e9}llo \u{2713}";
    let strings = new()
        .string(text.as_bytes())
        .string(b"")
        .string(b"\xff\xfeoops")
        .0;
    let mut r = Reader::new(&strings);
    match r.string() {
        Ok(s) => println!(
            "string: {s:?} ({} bytes), borrowed from the input {}",
            s.len(),
            s.as_ptr() == strings[8..].as_ptr()
        ),
        Err(e) => failed("string", &r, e),
    }
    match r.string() {
        Ok(s) => println!("empty string: {s:?}, position {}", r.position()),
        Err(e) => failed("empty string", &r, e),
    }
    match r.string() {
        Ok(s) => println!("unexpected: invalid UTF-8 read as {s:?}"),
        Err(e) => failed("invalid UTF-8", &r, e),
    }
    for (what, len) in [
        ("length one past the end", 4),
        ("length 2^40", 1 << 40),
        ("length 2^64 - 1", u64::MAX),
        ("length 2^64 - 8", u64::MAX - 7),
    ] {
        let bytes = new().u32(7).u64(len).raw(b"abc").0;
        let mut r = Reader::new(&bytes);
        let _ = r.u32();
        match r.string() {
            Ok(s) => println!("unexpected: {what} read {s:?}"),
            Err(e) => failed(what, &r, e),
        }
    }
    let short = new().u32(7).raw(&[3, 0, 0]).0; // not even a whole length
    let mut r = Reader::new(&short);
    let _ = r.u32();
    if let Err(e) = r.string() {
        failed("3-byte string length", &r, e);
    }

    // --- typed values ---------------------------------------------------
    show_value("u8", &new().u32(TYPE_U8).u8(7).0);
    show_value("u32", &new().u32(TYPE_U32).u32(4_000_000_000).0);
    show_value("u64", &new().u32(TYPE_U64).u64(u64::MAX).0);
    show_value("string", &new().u32(TYPE_STRING).string(b"llama").0);
    show_value(
        "array of u32",
        &new()
            .u32(TYPE_ARRAY)
            .array(TYPE_U32, 3)
            .u32(1)
            .u32(2)
            .u32(3)
            .0,
    );
    show_value(
        "array of strings",
        &new()
            .u32(TYPE_ARRAY)
            .array(TYPE_STRING, 2)
            .string(b"<s>")
            .string(b"</s>")
            .0,
    );
    show_value("empty array", &new().u32(TYPE_ARRAY).array(TYPE_U64, 0).0);
    show_value("unknown type 7", &new().u32(7).u8(1).0);
    show_value("unknown type 2^32 - 1", &new().u32(u32::MAX).0);
    show_value(
        "empty array of unknown type 99",
        &new().u32(TYPE_ARRAY).array(99, 0).0,
    );
    show_value("value of a 2-byte input", &[TYPE_U8 as u8, 0]);
    show_value("u64 value cut short", &new().u32(TYPE_U64).u32(1).0);

    // Counts that lie: each element takes at least one byte, so a count
    // larger than what remains fails when the bytes run out. Nothing may
    // be reserved for it first.
    for count in [4, 1_000_000, 1 << 40, u64::MAX] {
        let bytes = new()
            .u32(TYPE_ARRAY)
            .array(TYPE_U8, count)
            .raw(&[1, 2, 3])
            .0;
        show_value(&format!("array of {count} u8 with 3 bytes"), &bytes);
    }
    let bytes = new().u32(TYPE_ARRAY).array(TYPE_U64, 1 << 40).u64(1).0;
    show_value("array of 2^40 u64 with one", &bytes);
    // A failure deep inside an array leaves the position at the value's start.
    let bytes = new()
        .u32(TYPE_ARRAY)
        .array(TYPE_STRING, 3)
        .string(b"ok")
        .string(b"fine")
        .string(b"\xc3")
        .0;
    show_value("array whose third string is bad", &bytes);

    // Nesting: up to MAX_DEPTH arrays deep is fine, one more is not, and a
    // hostile input 100 000 deep must not overflow the stack.
    for d in [1, MAX_DEPTH, MAX_DEPTH + 1, 100_000] {
        let bytes = nested(d);
        let mut r = Reader::new(&bytes);
        match r.value() {
            Ok(v) => println!(
                "{d} nested arrays: depth {}, {} of {} bytes read",
                depth(&v),
                r.position(),
                bytes.len()
            ),
            Err(e) => failed(&format!("{d} nested arrays"), &r, e),
        }
    }
    show_value("4 nested arrays", &nested(MAX_DEPTH));

    // --- a metadata section: key, typed value, until the input ends -----
    let meta = new()
        .string(b"general.architecture")
        .u32(TYPE_STRING)
        .string(b"llama")
        .string(b"llama.context_length")
        .u32(TYPE_U32)
        .u32(4096)
        .string(b"tokenizer.ggml.scores")
        .u32(TYPE_ARRAY)
        .array(TYPE_U8, 4)
        .raw(&[0, 1, 2, 3])
        .string(b"general.file_type")
        .u32(TYPE_U64)
        .u32(1) // 4 bytes of a u64: the last entry is cut short
        .0;
    let mut r = Reader::new(&meta);
    while r.remaining() > 0 {
        let start = r.position();
        let key = match r.string() {
            Ok(key) => key,
            Err(e) => return failed("key", &r, e),
        };
        match r.value() {
            Ok(v) => println!("{start}: {key} = {v:?}"),
            Err(e) => {
                failed(&format!("{start}: {key}"), &r, e);
                break;
            }
        }
    }
    println!("end of main");
}
