//! The channel an accounted program reports through. The runner creates two
//! pipes: the program inherits the write end of the first and writes its
//! report there; from the second it reads a random nonce, once, in an ELF
//! constructor before `main`, and closes it. The environment variable that
//! names both descriptors is read and removed by that constructor, so
//! nothing `main` does to its environment redirects the report.
//!
//! Every line of a report starts with the nonce. [`parse`] rejects a report
//! with a line that lacks it (something else wrote to the channel), with
//! figures sent twice, or with lines the counter never writes.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::heap::{
    FreeOp, HeapReport, LayoutFigures, LayoutViolation, Leaked, ReportProblem, SizeCount,
    human_bytes,
};

/// The environment variable naming `REPORT_FD,NONCE_FD` for the counter.
pub const ENV: &str = "MEMLINGS_HEAP_REPORT";
/// Random bytes in a nonce (written as twice as many hex digits).
const NONCE_BYTES: usize = 16;
/// Most bytes kept from a report; a real one is a few KiB.
const CAP: usize = 256 * 1024;
/// How long to wait for the report once the program's group is gone.
const GRACE: Duration = Duration::from_secs(1);

/// The runner's side of one run's report channel.
#[derive(Debug)]
pub struct ReportChannel {
    nonce: String,
    /// The program's end of the report pipe, until it has been passed on.
    writer: io::PipeWriter,
    /// The program's end of the nonce pipe, likewise.
    nonce_reader: io::PipeReader,
    /// What the program wrote, delivered once every write end is closed.
    received: mpsc::Receiver<Vec<u8>>,
}

impl ReportChannel {
    /// Creates both pipes, with a fresh nonce waiting in the second. The
    /// runner's descriptors are close-on-exec; see [`ReportChannel::fds`].
    pub fn open() -> io::Result<Self> {
        let nonce = random_nonce()?;
        let (reader, writer) = io::pipe()?;
        let (nonce_reader, mut nonce_writer) = io::pipe()?;
        nonce_writer.write_all(nonce.as_bytes())?;
        drop(nonce_writer);
        Ok(ReportChannel {
            nonce,
            writer,
            nonce_reader,
            received: drain(reader),
        })
    }

    /// The environment entry that tells the counter where to look.
    pub fn env(&self) -> (OsString, OsString) {
        let value = format!(
            "{},{}",
            self.writer.as_raw_fd(),
            self.nonce_reader.as_raw_fd()
        );
        (ENV.into(), value.into())
    }

    /// The descriptors the program must inherit, at the same numbers.
    pub fn fds(&self) -> Vec<RawFd> {
        vec![self.writer.as_raw_fd(), self.nonce_reader.as_raw_fd()]
    }

    /// After the run: closes the runner's copies of the program's ends,
    /// waits briefly for what the program wrote, and judges it.
    pub fn receive(self) -> Received {
        let ReportChannel {
            nonce,
            writer,
            nonce_reader,
            received,
        } = self;
        drop((writer, nonce_reader));
        // Empty if something that escaped the run still holds the pipe.
        let bytes = received.recv_timeout(GRACE).unwrap_or_default();
        parse(&String::from_utf8_lossy(&bytes), &nonce)
    }
}

/// 16 random bytes from the kernel, in hex.
fn random_nonce() -> io::Result<String> {
    let mut bytes = [0u8; NONCE_BYTES];
    File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Reads the pipe to its end on a thread, keeping at most `CAP` bytes
/// (and draining the rest, so the program never blocks on it).
fn drain(mut pipe: io::PipeReader) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    let room = CAP.saturating_sub(kept.len());
                    kept.extend_from_slice(&chunk[..n.min(room)]);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        // The receiver may have given up waiting; nothing to do then.
        let _ = tx.send(kept);
    });
    rx
}

/// What arrived on the channel of one accounted run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Layout violations, reported as they happened (the first few).
    pub violations: Vec<LayoutViolation>,
    /// The figures, or why there are none to trust.
    pub report: Result<HeapReport, ReportProblem>,
}

impl Received {
    /// How many layout violations there were in all.
    pub fn violation_count(&self) -> u64 {
        let listed = self.violations.len() as u64;
        match &self.report {
            Ok(report) => report.violations.max(listed),
            Err(_) => listed,
        }
    }

    /// Shows the descriptors' targets inside `dir` (the run directory)
    /// relative to it.
    pub fn relative_to(&mut self, dir: &Path) {
        let prefix = format!("{}/", dir.display());
        if let Ok(HeapReport {
            fds: Some(leaked), ..
        }) = &mut self.report
        {
            for example in &mut leaked.examples {
                *example = example.replace(&prefix, "");
            }
        }
    }
}

/// Judges a report's text against the run's nonce.
pub fn parse(text: &str, nonce: &str) -> Received {
    let mut parser = Parser::default();
    let mut problem = None;
    for line in text.lines() {
        if let Err(found) = parser.line(line, nonce) {
            problem.get_or_insert(found);
        }
    }
    let report = match problem {
        Some(problem) => Err(problem),
        None => parser.finish(),
    };
    Received {
        violations: parser.violations,
        report,
    }
}

/// The figures every report carries, once each.
const FIGURES: [&str; 7] = [
    "allocs",
    "reallocs",
    "frees",
    "peak",
    "leaked",
    "allocated",
    "violations",
];

#[derive(Default)]
struct Parser {
    violations: Vec<LayoutViolation>,
    figures: [Option<u64>; FIGURES.len()],
    sizes: Vec<SizeCount>,
    leaked_blocks: Vec<SizeCount>,
    fds: Option<u64>,
    fd_examples: Vec<String>,
    mappings: Option<u64>,
    mapping_examples: Vec<String>,
    /// Keys seen, to refuse figures sent twice.
    seen: HashSet<String>,
    ended: bool,
}

impl Parser {
    fn line(&mut self, line: &str, nonce: &str) -> Result<(), ReportProblem> {
        let rest = line
            .strip_prefix(nonce)
            .and_then(|rest| rest.strip_prefix(' '))
            .ok_or_else(|| ReportProblem::Forged {
                line: line.to_owned(),
            })?;
        let malformed = || ReportProblem::Malformed {
            line: rest.to_owned(),
        };
        let (key, args) = rest.split_once(' ').unwrap_or((rest, ""));
        // Violations may come from threads still running after the report.
        if let Some(violation) = parse_violation(key, args) {
            self.violations.push(violation.ok_or_else(malformed)?);
            return Ok(());
        }
        if self.ended {
            return Err(ReportProblem::Duplicated);
        }
        let repeatable = matches!(key, "size" | "leak" | "fd" | "mapping");
        if !repeatable && !self.seen.insert(key.to_owned()) {
            return Err(ReportProblem::Duplicated);
        }
        match key {
            "end" if args.is_empty() => self.ended = true,
            "size" => self.sizes.push(size_count(args).ok_or_else(malformed)?),
            "leak" => {
                let [size, count] = numbers(args).ok_or_else(malformed)?;
                self.leaked_blocks.push(SizeCount {
                    size,
                    count,
                    bytes: size.saturating_mul(count),
                });
            }
            "fds" => self.fds = Some(number(args).ok_or_else(malformed)?),
            "fd" => {
                let (fd, target) = args.split_once(' ').unwrap_or((args, ""));
                let fd = number(fd).ok_or_else(malformed)?;
                self.fd_examples.push(format!("fd {fd} → {target}"));
            }
            "mappings" => self.mappings = Some(number(args).ok_or_else(malformed)?),
            "mapping" => {
                let len = number(args).ok_or_else(malformed)?;
                self.mapping_examples.push(human_bytes(len));
            }
            _ => {
                let slot = FIGURES
                    .iter()
                    .position(|&f| f == key)
                    .ok_or_else(malformed)?;
                self.figures[slot] = Some(number(args).ok_or_else(malformed)?);
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<HeapReport, ReportProblem> {
        if !self.ended {
            return Err(match self.seen.is_empty() {
                true => ReportProblem::Missing,
                false => ReportProblem::Malformed {
                    line: "(cut short)".into(),
                },
            });
        }
        let figure = |i: usize| {
            self.figures[i].ok_or_else(|| ReportProblem::Malformed {
                line: format!("(no {})", FIGURES[i]),
            })
        };
        let leaked = |count: Option<u64>, examples: &[String]| {
            count.map(|count| Leaked {
                count,
                examples: examples.to_vec(),
            })
        };
        Ok(HeapReport {
            allocs: figure(0)?,
            reallocs: figure(1)?,
            frees: figure(2)?,
            peak: figure(3)?,
            leaked: figure(4)?,
            allocated: figure(5)?,
            violations: figure(6)?,
            sizes: std::mem::take(&mut self.sizes),
            leaked_blocks: std::mem::take(&mut self.leaked_blocks),
            fds: leaked(self.fds, &self.fd_examples),
            mappings: leaked(self.mappings, &self.mapping_examples),
        })
    }
}

/// A violation line (`layout OP SIZE ALIGN SIZE ALIGN` or `foreign OP SIZE
/// ALIGN`): `None` if the key is another, `Some(None)` if malformed.
fn parse_violation(key: &str, args: &str) -> Option<Option<LayoutViolation>> {
    let (op, figures) = args.split_once(' ').unwrap_or((args, ""));
    let op = match op {
        "dealloc" => Some(FreeOp::Dealloc),
        "realloc" => Some(FreeOp::Realloc),
        _ => None,
    };
    let layout = |size, align| LayoutFigures { size, align };
    match key {
        "layout" => Some((|| {
            let [size, align, allocated_size, allocated_align] = numbers(figures)?;
            Some(LayoutViolation {
                op: op?,
                given: layout(size, align),
                allocated: Some(layout(allocated_size, allocated_align)),
            })
        })()),
        "foreign" => Some((|| {
            let [size, align] = numbers(figures)?;
            Some(LayoutViolation {
                op: op?,
                given: layout(size, align),
                allocated: None,
            })
        })()),
        _ => None,
    }
}

/// `SIZE COUNT BYTES`
fn size_count(args: &str) -> Option<SizeCount> {
    let [size, count, bytes] = numbers(args)?;
    Some(SizeCount { size, count, bytes })
}

fn number(text: &str) -> Option<u64> {
    let [n] = numbers(text)?;
    Some(n)
}

/// Exactly `N` space-separated decimal numbers.
fn numbers<const N: usize>(text: &str) -> Option<[u64; N]> {
    let mut out = [0; N];
    let mut words = text.split(' ');
    for slot in &mut out {
        let word = words.next()?;
        if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = word.parse().ok()?;
    }
    words.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "0123456789abcdef0123456789abcdef";

    /// A report as the counter writes it, with `N` for the nonce.
    fn text(lines: &str) -> String {
        lines
            .lines()
            .map(|l| format!("{}\n", l.replacen('N', NONCE, 1)))
            .collect()
    }

    const GOOD: &str = "N allocs 3\nN reallocs 1\nN frees 2\nN peak 1536\nN leaked 16\nN allocated 1600\nN violations 0\nN size 16 2 32\nN leak 16 1\nN fds 1\nN fd 3 /run/x/data bin\nN mappings 0\nN end";

    #[test]
    fn parses_a_whole_report() {
        let received = parse(&text(GOOD), NONCE);
        assert_eq!(received.violations, vec![]);
        let report = received.report.unwrap();
        assert_eq!((report.allocs, report.reallocs, report.frees), (3, 1, 2));
        assert_eq!(
            (report.peak, report.leaked, report.allocated),
            (1536, 16, 1600)
        );
        assert_eq!(
            report.sizes,
            vec![SizeCount {
                size: 16,
                count: 2,
                bytes: 32
            }]
        );
        assert_eq!(report.leaked_blocks[0].bytes, 16);
        assert_eq!(
            report.fds,
            Some(Leaked {
                count: 1,
                examples: vec!["fd 3 → /run/x/data bin".into()]
            })
        );
        assert_eq!(report.mappings, Some(Leaked::default()));
    }

    #[test]
    fn targets_inside_the_run_directory_are_relative() {
        let mut received = parse(&text(GOOD), NONCE);
        received.relative_to(Path::new("/run/x"));
        let fds = received.report.unwrap().fds.unwrap();
        assert_eq!(fds.examples, vec!["fd 3 → data bin".to_owned()]);
    }

    #[test]
    fn unknown_resources_stay_unknown() {
        let good = GOOD.replace("N fds 1\nN fd 3 /run/x/data bin\n", "");
        let report = parse(&text(&good), NONCE).report.unwrap();
        assert_eq!(report.fds, None);
    }

    #[test]
    fn violations_count_even_without_figures() {
        let lines = "N layout dealloc 32 8 16 8\nN foreign realloc 8 8";
        let received = parse(&text(lines), NONCE);
        assert_eq!(received.report, Err(ReportProblem::Missing));
        assert_eq!(received.violation_count(), 2);
        assert_eq!(
            received.violations[0],
            LayoutViolation {
                op: FreeOp::Dealloc,
                given: LayoutFigures { size: 32, align: 8 },
                allocated: Some(LayoutFigures { size: 16, align: 8 }),
            }
        );
        assert_eq!(received.violations[1].allocated, None);
    }

    #[test]
    fn nothing_is_missing() {
        assert_eq!(parse("", NONCE).report, Err(ReportProblem::Missing));
    }

    #[test]
    fn lines_without_the_nonce_are_forged() {
        let forged = format!("allocs=0\n{}", text(GOOD));
        let received = parse(&forged, NONCE);
        assert!(
            matches!(received.report, Err(ReportProblem::Forged { ref line }) if line == "allocs=0")
        );
        let wrong_nonce = text(GOOD).replace(NONCE, &NONCE.replace('0', "1"));
        assert!(matches!(
            parse(&wrong_nonce, NONCE).report,
            Err(ReportProblem::Forged { .. })
        ));
    }

    #[test]
    fn a_second_report_is_refused() {
        let twice = format!("{}{}", text(GOOD), text(GOOD));
        assert_eq!(parse(&twice, NONCE).report, Err(ReportProblem::Duplicated));
        let repeated = text(&GOOD.replace("N frees 2", "N frees 2\nN frees 0"));
        assert_eq!(
            parse(&repeated, NONCE).report,
            Err(ReportProblem::Duplicated)
        );
    }

    #[test]
    fn malformed_and_cut_reports_are_refused() {
        for bad in [
            GOOD.replace("N peak 1536", "N peak -1"),
            GOOD.replace("N peak 1536", "N peak 1536 2"),
            GOOD.replace("N peak 1536", "N peek 1536"),
            GOOD.replace("N peak 1536\n", ""),
            GOOD.replace("\nN end", ""),
            GOOD.replace("N size 16 2 32", "N size 16"),
            format!("{GOOD}\nN layout dealloc 1 2"),
        ] {
            let received = parse(&text(&bad), NONCE);
            assert!(
                matches!(received.report, Err(ReportProblem::Malformed { .. })),
                "{bad}: {:?}",
                received.report
            );
        }
    }

    #[test]
    fn a_real_channel_delivers_what_was_written() {
        let channel = ReportChannel::open().unwrap();
        let (key, value) = channel.env();
        assert_eq!(key, ENV);
        let fds = channel.fds();
        assert_eq!(value, format!("{},{}", fds[0], fds[1]).as_str());
        let mut nonce = String::new();
        let mut reader = channel.nonce_reader.try_clone().unwrap();
        let mut writer = channel.writer.try_clone().unwrap();
        reader.read_to_string(&mut nonce).unwrap();
        assert_eq!(nonce.len(), 2 * NONCE_BYTES);
        assert!(nonce.bytes().all(|b| b.is_ascii_hexdigit()));
        writer
            .write_all(GOOD.replace('N', &nonce).as_bytes())
            .unwrap();
        drop((reader, writer));
        assert!(channel.receive().report.is_ok());
    }
}
