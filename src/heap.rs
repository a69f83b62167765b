//! Heap accounting: the figures a counting allocator reports from inside an
//! exercise program, and the course's limits on them. Pure data and logic;
//! the allocator itself lives in `heap_counter.rs`, compiled into programs.

use std::fmt;

/// Source of the counting allocator, mounted into each accounted program.
pub const COUNTER_SOURCE: &str = include_str!("heap_counter.rs");

/// Heap figures of one run, counted from the start of `main` to process exit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
}

impl HeapReport {
    /// Parses the `key=value` lines the counter writes. `None` if any
    /// figure is missing, as when the program died before exiting.
    pub fn parse(text: &str) -> Option<HeapReport> {
        let get = |key: &str| -> Option<u64> {
            text.lines()
                .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
                .and_then(|v| v.trim().parse().ok())
        };
        Some(HeapReport {
            allocs: get("allocs")?,
            reallocs: get("reallocs")?,
            frees: get("frees")?,
            peak: get("peak")?,
            leaked: get("leaked")?,
        })
    }
}

impl fmt::Display for HeapReport {
    /// `heap: 14 allocs, 14 frees, peak 1.0 MiB, 0 B leaked`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "heap: {} allocs, ", self.allocs)?;
        if self.reallocs > 0 {
            write!(f, "{} reallocs, ", self.reallocs)?;
        }
        write!(
            f,
            "{} frees, peak {}, {} leaked",
            self.frees,
            human_bytes(self.peak),
            human_bytes(self.leaked)
        )
    }
}

/// Optional course limits on a run's heap figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapLimits {
    pub max_leaked_bytes: Option<u64>,
    pub max_allocations: Option<u64>,
    pub max_reallocs: Option<u64>,
    pub max_peak_bytes: Option<u64>,
}

/// Which heap limit was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeapLimitKind {
    Leaked,
    Allocations,
    Reallocs,
    Peak,
}

/// A heap limit exceeded, with the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapViolation {
    pub kind: HeapLimitKind,
    pub actual: u64,
    pub limit: u64,
}

impl HeapLimits {
    /// The first limit the report exceeds: leaks, allocations, reallocations,
    /// then peak.
    pub fn check(&self, report: &HeapReport) -> Option<HeapViolation> {
        [
            (HeapLimitKind::Leaked, report.leaked, self.max_leaked_bytes),
            (
                HeapLimitKind::Allocations,
                report.allocs,
                self.max_allocations,
            ),
            (HeapLimitKind::Reallocs, report.reallocs, self.max_reallocs),
            (HeapLimitKind::Peak, report.peak, self.max_peak_bytes),
        ]
        .into_iter()
        .find_map(|(kind, actual, limit)| {
            let limit = limit?;
            (actual > limit).then_some(HeapViolation {
                kind,
                actual,
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
        }
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
        }
    }
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

    const REPORT: HeapReport = HeapReport {
        allocs: 3,
        reallocs: 0,
        frees: 2,
        peak: 1536,
        leaked: 16,
    };

    #[test]
    fn parses_and_summarises() {
        let text = "allocs=3\nreallocs=0\nfrees=2\npeak=1536\nleaked=16\n";
        assert_eq!(HeapReport::parse(text), Some(REPORT));
        assert_eq!(HeapReport::parse("allocs=3\n"), None);
        assert_eq!(
            REPORT.to_string(),
            "heap: 3 allocs, 2 frees, peak 1.5 KiB, 16 B leaked"
        );
    }

    #[test]
    fn limits_in_order() {
        let none = HeapLimits::default();
        assert_eq!(none.check(&REPORT), None);
        let allocs = HeapLimits {
            max_allocations: Some(1),
            ..HeapLimits::default()
        };
        let v = allocs.check(&REPORT).unwrap();
        assert_eq!(
            v.describe(),
            "3 allocations, at most 1 allowed (2 too many)"
        );
        let leaks = HeapLimits {
            max_leaked_bytes: Some(0),
            max_allocations: Some(1),
            ..HeapLimits::default()
        };
        assert_eq!(leaks.check(&REPORT).unwrap().kind, HeapLimitKind::Leaked);
        let peak = HeapLimits {
            max_peak_bytes: Some(2048),
            ..HeapLimits::default()
        };
        assert_eq!(peak.check(&REPORT), None);
    }

    #[test]
    fn byte_limits_are_exact() {
        let v = HeapViolation {
            kind: HeapLimitKind::Peak,
            actual: 1152,
            limit: 1120,
        };
        assert_eq!(
            v.describe(),
            "peak of 1152 B (1.1 KiB) live, at most 1120 B (1.1 KiB) allowed (32 B over)"
        );
    }

    #[test]
    fn bytes() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1024 * 1024), "1 MiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }
}
