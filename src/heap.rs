//! Resource accounting: the figures the in-program counter reports (heap,
//! file descriptors, memory mappings, layout violations), the course's
//! limits on them, and their wording. Pure data and logic; the counter
//! itself lives in `heap_counter.rs`, compiled into programs, and the
//! channel it reports through in `heap_channel.rs`.

use std::fmt;

/// Source of the counter, mounted into each accounted program.
pub const COUNTER_SOURCE: &str = include_str!("heap_counter.rs");

/// How many allocation sizes a verdict names.
const SIZES_SHOWN: usize = 4;

/// Resource figures of one run, counted from the start of `main` to exit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeapReport {
    /// Successful `alloc`/`alloc_zeroed` calls.
    pub allocs: u64,
    /// Successful `realloc` calls.
    pub reallocs: u64,
    /// `dealloc` calls.
    pub frees: u64,
    /// Most bytes live at once.
    pub peak: u64,
    /// Bytes allocated by the program and still live at exit.
    pub leaked: u64,
    /// Bytes allocated in all: allocation sizes plus reallocation growth.
    pub allocated: u64,
    /// Layout violations the counter saw (each also reported on its own).
    pub violations: u64,
    /// Blocks made per size (by `alloc`, or `realloc` to that size).
    pub sizes: Vec<SizeCount>,
    /// The program's blocks still live at exit, per size.
    pub leaked_blocks: Vec<SizeCount>,
    /// File descriptors opened after `main` started and still open;
    /// `None` if the counter could not tell.
    pub fds: Option<Leaked>,
    /// Memory mappings created after `main` started and still mapped;
    /// `None` if the counter could not tell.
    pub mappings: Option<Leaked>,
}

/// Blocks of one size. Size 0 stands for all sizes the counter's small
/// table had no room for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SizeCount {
    pub size: u64,
    pub count: u64,
    pub bytes: u64,
}

impl fmt::Display for SizeCount {
    /// `4096 B ×3`: exact, as the program asked for it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.size {
            0 => write!(f, "other sizes ×{}", self.count),
            size => write!(f, "{size} B ×{}", self.count),
        }
    }
}

/// Resources left open at exit: how many, and the first few in words
/// (`fd 3 → data.bin`, `8 KiB`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leaked {
    pub count: u64,
    pub examples: Vec<String>,
}

impl fmt::Display for HeapReport {
    /// `heap: 14 allocs, 14 frees, peak 1.0 MiB, 0 B leaked; 0 fds, 0 mappings leaked`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "heap: {} allocs, ", self.allocs)?;
        if self.reallocs > 0 {
            write!(f, "{} reallocs, ", self.reallocs)?;
        }
        let count = |leaked: &Option<Leaked>| match leaked {
            Some(l) => l.count.to_string(),
            None => "?".to_owned(),
        };
        write!(
            f,
            "{} frees, peak {}, {} leaked; {} fds, {} mappings leaked",
            self.frees,
            human_bytes(self.peak),
            human_bytes(self.leaked),
            count(&self.fds),
            count(&self.mappings)
        )
    }
}

impl HeapReport {
    /// The sizes that weigh most for `kind`: by count for counted limits,
    /// by bytes for byte limits, leaked blocks for leaks.
    fn top_sizes(&self, kind: HeapLimitKind) -> Vec<SizeCount> {
        let mut sizes = match kind {
            HeapLimitKind::Leaked => self.leaked_blocks.clone(),
            _ => self.sizes.clone(),
        };
        match kind {
            HeapLimitKind::Allocations | HeapLimitKind::Reallocs => {
                sizes.sort_by_key(|s| (std::cmp::Reverse(s.count), std::cmp::Reverse(s.bytes)))
            }
            _ => sizes.sort_by_key(|s| (std::cmp::Reverse(s.bytes), std::cmp::Reverse(s.count))),
        }
        sizes.truncate(SIZES_SHOWN);
        sizes
    }
}

/// Optional course limits on what the counter reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapLimits {
    pub max_leaked_bytes: Option<u64>,
    pub max_allocations: Option<u64>,
    pub max_reallocs: Option<u64>,
    pub max_peak_bytes: Option<u64>,
    /// Total bytes allocated: allocation sizes plus reallocation growth.
    pub max_allocated_bytes: Option<u64>,
    pub max_leaked_fds: Option<u64>,
    pub max_leaked_mappings: Option<u64>,
}

/// Which heap limit was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeapLimitKind {
    Leaked,
    Allocations,
    Reallocs,
    Peak,
    Allocated,
}

impl HeapLimitKind {
    /// Every kind, for parsing course keys.
    pub const ALL: [HeapLimitKind; 5] = [
        HeapLimitKind::Leaked,
        HeapLimitKind::Allocations,
        HeapLimitKind::Reallocs,
        HeapLimitKind::Peak,
        HeapLimitKind::Allocated,
    ];

    /// The name used in JSON and course keys.
    pub fn key(self) -> &'static str {
        match self {
            HeapLimitKind::Leaked => "leaked",
            HeapLimitKind::Allocations => "allocations",
            HeapLimitKind::Reallocs => "reallocs",
            HeapLimitKind::Peak => "peak",
            HeapLimitKind::Allocated => "allocated",
        }
    }
}

/// A heap limit exceeded, with the figures and the sizes that weigh most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeapViolation {
    pub kind: HeapLimitKind,
    pub actual: u64,
    pub limit: u64,
    pub sizes: Vec<SizeCount>,
}

/// Which resource besides the heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Fds,
    Mappings,
}

impl Resource {
    /// Every resource, for parsing course keys.
    pub const ALL: [Resource; 2] = [Resource::Fds, Resource::Mappings];

    /// The name used in JSON and course keys.
    pub fn key(self) -> &'static str {
        match self {
            Resource::Fds => "fds",
            Resource::Mappings => "mappings",
        }
    }
}

/// File descriptors or mappings left open over the course's limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceViolation {
    pub resource: Resource,
    pub leaked: Leaked,
    pub limit: u64,
}

impl HeapLimits {
    /// The first heap limit the report exceeds: leaks, allocations,
    /// reallocations, bytes allocated, then peak.
    pub fn check(&self, report: &HeapReport) -> Option<HeapViolation> {
        [
            (HeapLimitKind::Leaked, report.leaked, self.max_leaked_bytes),
            (
                HeapLimitKind::Allocations,
                report.allocs,
                self.max_allocations,
            ),
            (HeapLimitKind::Reallocs, report.reallocs, self.max_reallocs),
            (
                HeapLimitKind::Allocated,
                report.allocated,
                self.max_allocated_bytes,
            ),
            (HeapLimitKind::Peak, report.peak, self.max_peak_bytes),
        ]
        .into_iter()
        .find_map(|(kind, actual, limit)| {
            let limit = limit?;
            (actual > limit).then(|| HeapViolation {
                kind,
                actual,
                limit,
                sizes: report.top_sizes(kind),
            })
        })
    }

    /// The first resource limit the report exceeds: descriptors, then
    /// mappings. Figures the counter could not tell are not judged.
    pub fn check_resources(&self, report: &HeapReport) -> Option<ResourceViolation> {
        [
            (Resource::Fds, &report.fds, self.max_leaked_fds),
            (
                Resource::Mappings,
                &report.mappings,
                self.max_leaked_mappings,
            ),
        ]
        .into_iter()
        .find_map(|(resource, leaked, limit)| {
            let (leaked, limit) = (leaked.as_ref()?, limit?);
            (leaked.count > limit).then(|| ResourceViolation {
                resource,
                leaked: leaked.clone(),
                limit,
            })
        })
    }
}

impl HeapViolation {
    /// "3 allocations, at most 1 allowed". Byte figures are exact, since
    /// rounding could make a small excess look like none.
    pub fn describe(&self) -> String {
        let over = self.actual - self.limit;
        match self.kind {
            HeapLimitKind::Leaked => format!(
                "{} still allocated at exit, at most {} allowed ({over} B too many)",
                exact_bytes(self.actual),
                exact_bytes(self.limit)
            ),
            HeapLimitKind::Allocations => format!(
                "{} allocations, at most {} allowed ({over} too many)",
                self.actual, self.limit
            ),
            HeapLimitKind::Reallocs => format!(
                "{} reallocations, at most {} allowed ({over} too many)",
                self.actual, self.limit
            ),
            HeapLimitKind::Peak => format!(
                "peak of {} live, at most {} allowed ({over} B over)",
                exact_bytes(self.actual),
                exact_bytes(self.limit)
            ),
            HeapLimitKind::Allocated => format!(
                "{} allocated in all, at most {} allowed ({over} B over)",
                exact_bytes(self.actual),
                exact_bytes(self.limit)
            ),
        }
    }

    /// `Allocation sizes: 4096 B ×3, 24 B ×9`, the sizes that weigh most,
    /// so the learner can find the allocations; `None` if unknown.
    pub fn sizes_line(&self) -> Option<String> {
        if self.sizes.is_empty() {
            return None;
        }
        let what = match self.kind {
            HeapLimitKind::Leaked => "Leaked blocks",
            _ => "Allocation sizes",
        };
        let sizes: Vec<String> = self.sizes.iter().map(SizeCount::to_string).collect();
        Some(format!("{what}: {}", sizes.join(", ")))
    }

    /// The usual cause of this kind of excess.
    pub fn usual_cause(&self) -> &'static str {
        match self.kind {
            HeapLimitKind::Leaked => {
                "something is never freed: a `mem::forget`, `Box::leak`, an `Rc`/`Arc` cycle, or a raw allocation without its matching `dealloc`"
            }
            HeapLimitKind::Allocations => {
                "the code allocates more often than it needs to: a clone or copy of data that could be moved or shared, one allocation per item where one up front would do, or a `Vec` growing without `with_capacity`"
            }
            HeapLimitKind::Reallocs => {
                "a buffer grows after it was made: a `Vec` or `String` pushed past its capacity; size it once, up front (`with_capacity`, `vec![x; n]`)"
            }
            HeapLimitKind::Peak => {
                "more is live at once than needed: data copied instead of moved or shared, buffers kept after their last use, or a `Vec` grown past its final size (growth doubles the capacity)"
            }
            HeapLimitKind::Allocated => {
                "data is copied where it could be moved, shared or borrowed: a `clone`, `to_vec` or `collect` of data that already exists, or a buffer rebuilt instead of reused"
            }
        }
    }
}

impl ResourceViolation {
    /// "1 file descriptor still open at exit (fd 3 → data.bin), at most 0 allowed"
    pub fn describe(&self) -> String {
        let count = self.leaked.count;
        let (one, many, state) = match self.resource {
            Resource::Fds => ("file descriptor", "file descriptors", "open"),
            Resource::Mappings => ("memory mapping", "memory mappings", "mapped"),
        };
        let noun = if count == 1 { one } else { many };
        let examples = match self.leaked.examples.is_empty() {
            true => String::new(),
            false => format!(" ({})", self.leaked.examples.join(", ")),
        };
        format!(
            "{count} {noun} opened after `main` started still {state} at exit{examples}, at most {} allowed",
            self.limit
        )
    }

    /// The usual cause of this kind of leak.
    pub fn usual_cause(&self) -> &'static str {
        match self.resource {
            Resource::Fds => {
                "a `File` (or socket, or pipe) that is never dropped: `mem::forget`, `into_raw_fd` without a matching `from_raw_fd`, a value kept alive by `Box::leak` or an `Rc` cycle, or a raw `open` without `close`"
            }
            Resource::Mappings => {
                "a mapping that is never unmapped: `mem::forget` of an `Mmap`/`MmapMut`, a type without the `Drop` that should unmap it, or a raw `mmap` without its `munmap`"
            }
        }
    }
}

/// A size and alignment, as the counter reports a `Layout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutFigures {
    pub size: u64,
    pub align: u64,
}

impl fmt::Display for LayoutFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Layout {{ size: {}, align: {} }}", self.size, self.align)
    }
}

/// Which allocator call broke the layout contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreeOp {
    Dealloc,
    Realloc,
}

impl FreeOp {
    /// The method's name.
    pub fn name(self) -> &'static str {
        match self {
            FreeOp::Dealloc => "dealloc",
            FreeOp::Realloc => "realloc",
        }
    }
}

/// A `dealloc` or `realloc` whose layout differs from the allocation's, or
/// of a pointer that is not a live allocation (`allocated` is `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutViolation {
    pub op: FreeOp,
    pub given: LayoutFigures,
    pub allocated: Option<LayoutFigures>,
}

impl LayoutViolation {
    /// What happened, with both layouts.
    pub fn describe(&self) -> String {
        let op = self.op.name();
        match self.allocated {
            Some(allocated) => format!(
                "`{op}` was given {}, but the block was allocated with {allocated}",
                self.given
            ),
            None => format!(
                "`{op}` was given a pointer (with {}) that is not a live allocation",
                self.given
            ),
        }
    }

    /// Why it matters and what usually causes it.
    pub fn usual_cause(&self) -> &'static str {
        match self.allocated {
            Some(_) => {
                "a block must be freed (or reallocated) with exactly the `Layout` it was allocated with; that is undefined behaviour the output and valgrind do not show. Compute the layout once and keep it beside the pointer, rather than rebuilding it from a size that may have changed"
            }
            None => {
                "only a pointer returned by `alloc`, `alloc_zeroed` or `realloc` may be freed, and only once: this one was freed before, points into the middle of a block, to the stack or a static, or came from another allocator (memlings skipped the free so the run could go on)"
            }
        }
    }
}

/// Why an accounted run has no trustworthy report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportProblem {
    /// Nothing, or only early violation notices, arrived.
    Missing,
    /// A line without the run's nonce: written by someone else.
    Forged { line: String },
    /// The figures arrived more than once.
    Duplicated,
    /// A line the counter never writes, or a cut-short report.
    Malformed { line: String },
}

impl ReportProblem {
    /// The name used in JSON.
    pub fn key(&self) -> &'static str {
        match self {
            ReportProblem::Missing => "missing",
            ReportProblem::Forged { .. } => "forged",
            ReportProblem::Duplicated => "duplicated",
            ReportProblem::Malformed { .. } => "malformed",
        }
    }

    /// What went wrong, and its usual cause.
    pub fn describe(&self) -> String {
        match self {
            ReportProblem::Missing => "the program's report never arrived. It ends with the program's exit handlers, so a program that leaves through `libc::_exit`, `abort` or a fatal signal, or that closes the descriptors it did not open, sends none; `std::process::exit` and returning from `main` do".to_owned(),
            ReportProblem::Forged { line } => format!(
                "something other than memlings' counter wrote to its report channel ({:?}); the figures cannot be trusted",
                clip(line)
            ),
            ReportProblem::Duplicated => "the report arrived twice; the figures cannot be trusted".to_owned(),
            ReportProblem::Malformed { line } => format!(
                "the report was malformed ({:?}); the figures cannot be trusted",
                clip(line)
            ),
        }
    }
}

/// The first 80 characters of a line from the program.
fn clip(line: &str) -> String {
    line.chars().take(80).collect()
}

/// Bytes exactly, with the rounded unit beside large figures:
/// `512 B`, `1152 B (1.1 KiB)`.
pub fn exact_bytes(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        _ => format!("{bytes} B ({})", human_bytes(bytes)),
    }
}

/// Bytes in the largest whole unit, e.g. `1 MiB`, `1.5 KiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 {
        format!("{value} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> HeapReport {
        HeapReport {
            allocs: 3,
            reallocs: 0,
            frees: 2,
            peak: 1536,
            leaked: 16,
            allocated: 1552,
            violations: 0,
            sizes: vec![
                SizeCount {
                    size: 16,
                    count: 2,
                    bytes: 32,
                },
                SizeCount {
                    size: 1520,
                    count: 1,
                    bytes: 1520,
                },
            ],
            leaked_blocks: vec![SizeCount {
                size: 16,
                count: 1,
                bytes: 16,
            }],
            fds: Some(Leaked::default()),
            mappings: Some(Leaked {
                count: 1,
                examples: vec!["8 KiB".into()],
            }),
        }
    }

    #[test]
    fn summarises() {
        assert_eq!(
            report().to_string(),
            "heap: 3 allocs, 2 frees, peak 1.5 KiB, 16 B leaked; 0 fds, 1 mappings leaked"
        );
        let unknown = HeapReport {
            fds: None,
            ..report()
        };
        assert!(unknown.to_string().ends_with("; ? fds, 1 mappings leaked"));
    }

    #[test]
    fn limits_in_order() {
        let none = HeapLimits::default();
        assert_eq!(none.check(&report()), None);
        let allocs = HeapLimits {
            max_allocations: Some(1),
            ..HeapLimits::default()
        };
        let v = allocs.check(&report()).unwrap();
        assert_eq!(
            v.describe(),
            "3 allocations, at most 1 allowed (2 too many)"
        );
        assert_eq!(
            v.sizes_line().unwrap(),
            "Allocation sizes: 16 B ×2, 1520 B ×1",
            "most often first"
        );
        let leaks = HeapLimits {
            max_leaked_bytes: Some(0),
            max_allocations: Some(1),
            ..HeapLimits::default()
        };
        let v = leaks.check(&report()).unwrap();
        assert_eq!(v.kind, HeapLimitKind::Leaked);
        assert_eq!(v.sizes_line().unwrap(), "Leaked blocks: 16 B ×1");
        let peak = HeapLimits {
            max_peak_bytes: Some(2048),
            ..HeapLimits::default()
        };
        assert_eq!(peak.check(&report()), None);
    }

    #[test]
    fn allocated_bytes_limit_names_the_heaviest_sizes() {
        let limits = HeapLimits {
            max_allocated_bytes: Some(1000),
            ..HeapLimits::default()
        };
        let v = limits.check(&report()).unwrap();
        assert_eq!(v.kind, HeapLimitKind::Allocated);
        assert_eq!(
            v.describe(),
            "1552 B (1.5 KiB) allocated in all, at most 1000 B allowed (552 B over)"
        );
        assert_eq!(
            v.sizes_line().unwrap(),
            "Allocation sizes: 1520 B ×1, 16 B ×2",
            "most bytes first"
        );
        assert!(v.usual_cause().contains("to_vec"));
    }

    #[test]
    fn resource_limits() {
        let limits = HeapLimits {
            max_leaked_fds: Some(0),
            max_leaked_mappings: Some(0),
            ..HeapLimits::default()
        };
        let v = limits.check_resources(&report()).unwrap();
        assert_eq!(v.resource, Resource::Mappings);
        assert_eq!(
            v.describe(),
            "1 memory mapping opened after `main` started still mapped at exit (8 KiB), at most 0 allowed"
        );
        assert!(v.usual_cause().contains("mem::forget"));
        let fds = HeapReport {
            fds: Some(Leaked {
                count: 2,
                examples: vec!["fd 3 → a.bin".into(), "fd 4 → b.bin".into()],
            }),
            ..report()
        };
        let v = limits.check_resources(&fds).unwrap();
        assert_eq!(
            v.describe(),
            "2 file descriptors opened after `main` started still open at exit (fd 3 → a.bin, fd 4 → b.bin), at most 0 allowed"
        );
        assert!(v.usual_cause().contains("into_raw_fd"));
        let unknown = HeapReport {
            fds: None,
            mappings: None,
            ..report()
        };
        assert_eq!(limits.check_resources(&unknown), None);
    }

    #[test]
    fn layout_violations_name_both_layouts() {
        let v = LayoutViolation {
            op: FreeOp::Dealloc,
            given: LayoutFigures { size: 32, align: 8 },
            allocated: Some(LayoutFigures { size: 16, align: 8 }),
        };
        assert_eq!(
            v.describe(),
            "`dealloc` was given Layout { size: 32, align: 8 }, but the block was allocated with Layout { size: 16, align: 8 }"
        );
        let foreign = LayoutViolation {
            allocated: None,
            ..v
        };
        assert!(foreign.describe().contains("not a live allocation"));
        assert!(foreign.usual_cause().contains("freed before"));
    }

    #[test]
    fn byte_limits_are_exact() {
        let v = HeapViolation {
            kind: HeapLimitKind::Peak,
            actual: 1152,
            limit: 1120,
            sizes: Vec::new(),
        };
        assert_eq!(
            v.describe(),
            "peak of 1152 B (1.1 KiB) live, at most 1120 B (1.1 KiB) allowed (32 B over)"
        );
        assert_eq!(v.sizes_line(), None);
    }

    #[test]
    fn bytes() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1024 * 1024), "1 MiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }
}
