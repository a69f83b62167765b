//! Rebuild the binary when the embedded course changes: `include_dir!`
//! cannot tell Cargo which files it read.
fn main() {
    for path in ["course.toml", "exercises", "expected", "solutions"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
