//! JSON lines for machines: one object per judged exercise, per verified
//! exercise, and per listing. Field names are a stable interface: every line
//! carries [`SCHEMA`], documented in docs/json.md and described by
//! docs/memlings.schema.json.

use serde_json::{Value, json};

use super::{CheckReport, Reporter, Verification, VerifyResult, VerifySummary};
use crate::course::{Course, Exercise};
use crate::heap::{HeapReport, LayoutFigures, SizeCount};
use crate::judge::{BuildLimit, Verdict};
use crate::sandbox::{self, Isolation};
use crate::state::State;

/// The version of the JSON lines' schema, in every line's `"schema"`.
/// Adding a field keeps it; removing or renaming one means a new number.
pub const SCHEMA: u32 = 1;

/// Prints one JSON line, stamped with the schema version.
pub fn emit(mut object: Value) {
    if let Value::Object(fields) = &mut object {
        fields.insert("schema".into(), json!(SCHEMA));
    }
    println!("{object}");
}

/// Writes JSON lines to stdout.
pub struct Json;

impl Reporter for Json {
    fn check_started(&mut self, _exercise: &Exercise, _describe: bool) {}

    fn checked(&mut self, report: &CheckReport<'_>) {
        let attempt = report.attempt;
        let mut object = json!({
            "event": "check",
            "exercise": report.exercise.name,
            "passed": attempt.verdict.passed(),
            "verdict": verdict(&attempt.verdict),
            "heap": attempt.heap.as_ref().map(heap),
            "memcheck": report.memcheck,
            "warnings": attempt.warnings,
        });
        // The same keys in every check object; null where it never ran.
        let outcome = attempt.outcome.as_ref();
        object["elapsed_ms"] = json!(outcome.map(|o| o.elapsed.as_millis()));
        // The run's level, or the build's when the program never ran.
        let isolation = outcome.map(|o| o.isolation).or_else(sandbox::last_used);
        object["isolation"] = json!(isolation.map(Isolation::name));
        object["stdout"] = json!(outcome.map(|o| String::from_utf8_lossy(&o.stdout)));
        object["stderr"] = json!(outcome.map(|o| String::from_utf8_lossy(&o.stderr)));
        if let Verdict::HeapLimit(v) = &attempt.verdict {
            object["verdict"]["usual_cause"] = json!(v.usual_cause());
            object["verdict"]["heap_hint"] = json!(report.exercise.heap_hint);
        }
        let shown = report.hints_shown;
        let hints = &report.exercise.hints;
        object["hint"] = json!(
            shown
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| hints.get(i))
        );
        object["hint_level"] = json!(shown);
        object["targeted_hint"] = json!(
            report
                .targeted_hint
                .map(|hint| json!({ "id": hint.id, "text": hint.text }))
        );
        emit(object);
    }

    fn all_done(&mut self) {
        emit(json!({ "event": "check", "exercise": null, "all_done": true }));
    }

    fn verified(&mut self, exercise: &Exercise, verification: &Verification<'_>) {
        let (problem, detail) = match &verification.result {
            VerifyResult::Verified { template, .. } => (None, Some(verdict(template))),
            VerifyResult::NoSolution(path) => (Some("no solution"), Some(json!(path))),
            VerifyResult::SolutionFails(v) => (Some("solution fails"), Some(verdict(v))),
            VerifyResult::TemplatePasses => (Some("template passes"), None),
        };
        let mistakes: Vec<Value> = verification
            .mistakes
            .iter()
            .map(|m| {
                json!({
                    "slug": m.mistake.slug,
                    "description": m.mistake.description,
                    "verdict": verdict(&m.verdict),
                    "caught": m.caught(),
                    "expected": m.mistake.caught_by,
                    "hint": m.mistake.hint,
                    "selected_hint": m.selected_hint.map(|hint| &hint.id),
                })
            })
            .collect();
        let alternatives: Vec<Value> = verification
            .alternatives
            .iter()
            .map(|a| {
                json!({
                    "slug": a.alternative.slug,
                    "passed": a.passed(),
                    "verdict": verdict(&a.verdict),
                })
            })
            .collect();
        let object = json!({
            "event": "verify",
            "exercise": exercise.name,
            "ok": verification.ok(),
            "problem": problem,
            "detail": detail,
            "mistakes": mistakes,
            "alternatives": alternatives,
            "isolation": sandbox::last_used().map(Isolation::name),
        });
        emit(object);
    }

    fn verify_finished(&mut self, summary: &VerifySummary) {
        let object = json!({
            "event": "verify_summary",
            "failures": summary.failures,
            "total": summary.total,
            "mistakes_caught": summary.mistakes_caught,
            "mistakes_total": summary.mistakes_total,
            "alternatives_passed": summary.alternatives_passed,
            "alternatives_total": summary.alternatives_total,
        });
        emit(object);
    }

    fn listed(&mut self, course: &Course, state: &State) {
        let exercises: Vec<Value> = course
            .exercises
            .iter()
            .map(|e| json!({ "name": e.name, "done": state.is_done(&e.name) }))
            .collect();
        let done = exercises.iter().filter(|e| e["done"] == true).count();
        let object = json!({
            "event": "list",
            "title": course.title,
            "current": state.current(course).map(|e| &e.name),
            "exercises": exercises,
            "done": done,
            "total": course.exercises.len(),
        });
        emit(object);
    }
}

/// Heap figures as an object.
pub fn heap(report: &HeapReport) -> Value {
    json!({
        "allocs": report.allocs,
        "reallocs": report.reallocs,
        "frees": report.frees,
        "peak_bytes": report.peak,
        "leaked_bytes": report.leaked,
        "allocated_bytes": report.allocated,
        "leaked_fds": report.fds.as_ref().map(|l| l.count),
        "leaked_mappings": report.mappings.as_ref().map(|l| l.count),
        "sizes": sizes(&report.sizes),
    })
}

fn sizes(sizes: &[SizeCount]) -> Value {
    sizes
        .iter()
        .map(|s| json!({ "size": s.size, "count": s.count, "bytes": s.bytes }))
        .collect()
}

fn layout(figures: &LayoutFigures) -> Value {
    json!({ "size": figures.size, "align": figures.align })
}

/// A verdict as `{"kind": label, ...details}`.
pub fn verdict(verdict: &Verdict) -> Value {
    let details = match verdict {
        Verdict::Pass | Verdict::Interrupted => json!({}),
        Verdict::WrongOutput { expected, actual } => {
            json!({ "expected": expected, "actual": actual })
        }
        Verdict::CompileError { diagnostics, codes } => {
            json!({ "diagnostics": diagnostics, "codes": codes })
        }
        Verdict::Lint { diagnostics } => json!({ "diagnostics": diagnostics }),
        Verdict::Panic { message, location } => {
            json!({ "message": message, "location": location })
        }
        Verdict::Crash { signal, cause } => json!({ "signal": signal, "cause": cause }),
        Verdict::ExitCode { code } => json!({ "code": code }),
        Verdict::Timeout { limit_ms } => json!({ "limit_ms": limit_ms }),
        Verdict::OutputLimit {
            stream,
            limit_bytes,
        } => json!({ "stream": stream.name(), "limit_bytes": limit_bytes }),
        Verdict::MemoryLimit { limit_mb } => json!({ "limit_mb": limit_mb }),
        Verdict::FileLimit { limit_bytes } => json!({ "limit_bytes": limit_bytes }),
        Verdict::BuildLimit(BuildLimit::Time { limit_ms }) => {
            json!({ "limit": "time", "limit_ms": limit_ms })
        }
        Verdict::BuildLimit(BuildLimit::Memory { limit_mb }) => {
            json!({ "limit": "memory", "limit_mb": limit_mb })
        }
        Verdict::HeapLimit(v) => json!({
            "limit": v.kind.key(),
            "actual": v.actual,
            "max": v.limit,
            "message": v.describe(),
            "sizes": sizes(&v.sizes),
        }),
        Verdict::ResourceLeak(v) => json!({
            "resource": v.resource.key(),
            "actual": v.leaked.count,
            "max": v.limit,
            "leaked": v.leaked.examples,
            "message": v.describe(),
            "usual_cause": v.usual_cause(),
        }),
        Verdict::LayoutMismatch { first, count } => json!({
            "operation": first.op.name(),
            "given": layout(&first.given),
            "allocated": first.allocated.as_ref().map(layout),
            "count": count,
            "message": first.describe(),
            "usual_cause": first.usual_cause(),
        }),
        Verdict::MissingHeapReport(problem) => json!({
            "problem": problem.key(),
            "message": problem.describe(),
        }),
        Verdict::GuaranteeLost(lost) => json!({
            "guarantee": lost.guarantee,
            "probe": lost.probe,
            "expected_code": lost.expected_code,
            "compiled": lost.compiled,
            "found_codes": lost.found_codes,
            "message": lost.describe(),
        }),
        Verdict::MemoryError(f) => json!({
            "error": f.headline,
            "frames": f.frames,
            "details": f.details.iter().map(|(h, fr)| json!({ "header": h, "frames": fr })).collect::<Vec<_>>(),
        }),
    };
    let mut object = json!({ "kind": verdict.label() });
    if let (Some(target), Value::Object(extra)) = (object.as_object_mut(), details) {
        target.extend(extra);
    }
    object
}
