//! `avwm-fuzz`: fuzz avwm's loaders of user files on stable Rust.
//!
//! ```text
//! avwm-fuzz list
//! avwm-fuzz run --target NAME|all [--inputs N] [--seed S] [--out fuzz/results] [--segment N]
//!               [--resume] [--in-process]
//! avwm-fuzz summary [--out fuzz/results] [--inputs N]
//! avwm-fuzz build-corpus [--corpus DIR] [--fixtures DIR]
//! ```
//! `run` executes each target in a child process (`avwm-fuzz __child …`, a re-exec of this
//! binary). The child writes the input it is about to run to `<scratch>/current.bin` (8-byte
//! index, then the bytes); when the child dies (abort, stack overflow, signal) or reports no
//! progress for 10 s, the parent records that input as a finding and restarts the child after it.
//!
//! Inputs run in segments of `--segment` (a fresh child, and so a fresh feedback corpus, at each
//! segment's first index): after each segment the report so far is written to
//! `<out>/resume/<target>.json`, and `--resume` continues from there, so a killed run resumed
//! runs exactly the inputs an uninterrupted one runs (the stream of input `i` depends only on the
//! seed, the segment and the inputs of its segment before it).

use avwm_fuzz::engine::{Finding, Fuzzer, Kind, Report, RunOptions, hash_hex};
use avwm_fuzz::targets::{self, NAMES, Paths};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The child is killed when it reports no progress for this long.
const STALL_S: u64 = 10;
/// Data-segment limit of a child (bytes), so that an allocation bomb fails instead of
/// swapping the machine (applied with `prlimit` when it exists).
const CHILD_DATA_LIMIT: u64 = 6 << 30;

/// Fuzz avwm's loaders of user files on stable Rust.
#[derive(Debug, Parser)]
#[command(name = "avwm-fuzz", version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// The targets and the loader each calls.
    List,
    /// Fuzzes targets; writes `<out>/<target>.json` and the findings' inputs beside `<out>`.
    Run(RunArgs),
    /// Tabulates the results of every target (`<out>/summary.json` and a Markdown table);
    /// fails if a target is missing, short of `--inputs`, or has findings.
    Summary(SummaryArgs),
    /// Regenerates the seeds and fixtures that are written by the library.
    BuildCorpus(PathArgs),
    /// One child process of `run` (internal).
    #[command(name = "__child", hide = true)]
    Child(ChildArgs),
}

/// Where the seed corpus and the fixtures are.
#[derive(Debug, Clone, clap::Args)]
struct PathArgs {
    /// Seed corpus folder (default: the crate's `corpus/`).
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Fixtures folder (default: the crate's `fixtures/`).
    #[arg(long)]
    fixtures: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
struct RunArgs {
    /// A target, several separated by commas, or `all`.
    #[arg(long, default_value = "all")]
    target: String,
    /// Inputs per target.
    #[arg(long, default_value_t = 10_000)]
    inputs: u64,
    /// Seed of the mutation stream (same seed ⇒ same inputs).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Results folder.
    #[arg(long, default_value = "fuzz/results")]
    out: PathBuf,
    /// Run in this process instead of child processes (an abort then ends the run; no
    /// segments, no resuming).
    #[arg(long)]
    in_process: bool,
    /// Inputs per segment: each starts a fresh child and ends with a resumable checkpoint.
    #[arg(long, default_value_t = 50_000)]
    segment: u64,
    /// Continue each target from its checkpoint in `<out>/resume/` (same seed and segment);
    /// a target already at `--inputs` is not run again.
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    paths: PathArgs,
}

#[derive(Debug, Clone, clap::Args)]
struct SummaryArgs {
    /// Results folder.
    #[arg(long, default_value = "fuzz/results")]
    out: PathBuf,
    /// Inputs each target must have run.
    #[arg(long, default_value_t = 1_000_000)]
    inputs: u64,
}

#[derive(Debug, Clone, clap::Args)]
struct ChildArgs {
    #[arg(long)]
    target: String,
    #[arg(long)]
    inputs: u64,
    #[arg(long)]
    seed: u64,
    #[arg(long)]
    start: u64,
    #[arg(long)]
    scratch: PathBuf,
    #[arg(long)]
    findings: PathBuf,
    #[command(flatten)]
    paths: PathArgs,
}

/// What `run` and a child share.
#[derive(Debug, Clone)]
struct Args {
    target: String,
    inputs: u64,
    seed: u64,
    start: u64,
    out: PathBuf,
    scratch: Option<PathBuf>,
    findings: Option<PathBuf>,
    in_process: bool,
    segment: u64,
    resume: bool,
    paths: PathArgs,
}

impl From<RunArgs> for Args {
    fn from(r: RunArgs) -> Args {
        Args {
            target: r.target,
            inputs: r.inputs,
            seed: r.seed,
            start: 0,
            out: r.out,
            scratch: None,
            findings: None,
            in_process: r.in_process,
            segment: r.segment.max(1),
            resume: r.resume,
            paths: r.paths,
        }
    }
}

impl From<ChildArgs> for Args {
    fn from(c: ChildArgs) -> Args {
        Args {
            target: c.target,
            inputs: c.inputs,
            seed: c.seed,
            start: c.start,
            out: PathBuf::new(),
            scratch: Some(c.scratch),
            findings: Some(c.findings),
            in_process: true,
            segment: u64::MAX,
            resume: false,
            paths: c.paths,
        }
    }
}

fn paths(a: &PathArgs) -> Paths {
    let mut p = Paths::default();
    if let Some(c) = &a.corpus {
        p.corpus = c.clone();
    }
    if let Some(f) = &a.fixtures {
        p.fixtures = f.clone();
    }
    p
}

fn main() -> ExitCode {
    let r = match Cli::parse().cmd {
        Cmd::List => {
            for n in NAMES {
                println!("{n:<18} {}", targets::loader_of(n));
            }
            Ok(true)
        }
        Cmd::BuildCorpus(p) => {
            let p = paths(&p);
            avwm_fuzz::corpus::build_corpus(&p.corpus, &p.fixtures).map(|()| {
                println!("wrote generated seeds under {}", p.corpus.display());
                true
            })
        }
        Cmd::Run(r) => run(&r.into()),
        Cmd::Summary(s) => summary(&s),
        Cmd::Child(c) => child(&c.into()).map(|()| true),
    };
    match r {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("avwm-fuzz: {e}");
            ExitCode::from(2)
        }
    }
}

fn names(target: &str) -> Result<Vec<&'static str>, String> {
    if target == "all" {
        return Ok(NAMES.to_vec());
    }
    target
        .split(',')
        .map(|t| {
            NAMES
                .iter()
                .chain(&["selftest_crash"])
                .find(|n| **n == t)
                .copied()
                .ok_or_else(|| format!("unknown target {t:?} (see `avwm-fuzz list`)"))
        })
        .collect()
}

/// `run`: every target, one after the other; returns whether there were no findings.
fn run(a: &Args) -> Result<bool, String> {
    let list = names(&a.target)?;
    std::fs::create_dir_all(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
    let findings_root = a
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("findings");
    let scratch_root = tempfile::Builder::new()
        .prefix("avwm-fuzz-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let mut reports = Vec::new();
    for name in list {
        let pb = ProgressBar::new(a.inputs);
        pb.set_style(
            ProgressStyle::with_template("{msg:>18} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})")
                .map_err(|e| e.to_string())?
                .progress_chars("=> "),
        );
        pb.set_message(name);
        let scratch = scratch_root.path().join(name);
        let findings = findings_root.join(name);
        let (mut report, ran) = if a.in_process {
            let target = targets::build(name, &scratch, &paths(&a.paths))?;
            let mut f = Fuzzer::new(target, a.seed, 0);
            let opts = RunOptions {
                seed: a.seed,
                start: 0,
                inputs: a.inputs,
                seeds_first: true,
            };
            f.run(&opts, |i| pb.set_position(i + 1));
            f.report.redact_scratch(&scratch);
            (f.report.clone(), true)
        } else {
            segments(a, name, &scratch, &findings, &pb)?
        };
        report
            .save_findings(&findings)
            .map_err(|e| format!("{}: {e}", findings.display()))?;
        pb.finish_with_message(format!("{name}: {} findings", report.findings()));
        let path = a.out.join(format!("{name}.json"));
        // A target that was already complete keeps its report as written (re-serialising the
        // parsed checkpoint would only move the last digit of its floats).
        if ran || !path.is_file() {
            let json = serde_json::to_vec_pretty(&report).map_err(|e| e.to_string())?;
            write_atomic(&path, &json)?;
        }
        reports.push(report);
    }
    let summary = avwm_fuzz::engine::summary(&reports);
    println!(
        "{}",
        serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?
    );
    Ok(reports.iter().all(|r| r.findings() == 0))
}

/// `summary`: every target's report in `a.out`, tabulated; returns whether each ran
/// `a.inputs` inputs without findings.
fn summary(a: &SummaryArgs) -> Result<bool, String> {
    let mut reports = Vec::new();
    let mut missing = Vec::new();
    for name in NAMES {
        let path = a.out.join(format!("{name}.json"));
        match std::fs::read(&path) {
            Ok(b) => reports.push(
                serde_json::from_slice::<Report>(&b)
                    .map_err(|e| format!("{}: not a report of avwm-fuzz: {e}", path.display()))?,
            ),
            Err(_) => missing.push(name),
        }
    }
    let short: Vec<&str> = reports
        .iter()
        .filter(|r| r.inputs < a.inputs)
        .map(|r| r.target.as_str())
        .collect();
    let findings: usize = reports.iter().map(Report::findings).sum();
    let inputs: u64 = reports.iter().map(|r| r.inputs).sum();
    let cpu_hours: f64 = reports.iter().map(|r| r.seconds).sum::<f64>() / 3600.0;
    println!(
        "| target | inputs | inputs/s | distinct errors | slowest (s, wall / CPU) | panics | aborts | hangs |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in &reports {
        println!(
            "| `{}` | {} | {:.0} | {} | {:.3} / {:.3} | {} | {} | {} |",
            r.target,
            r.inputs,
            r.inputs_per_s,
            r.distinct_errors,
            r.slowest_s,
            r.slowest_cpu_s,
            r.panics.len(),
            r.aborts.len(),
            r.hangs.len()
        );
    }
    let complete = missing.is_empty() && short.is_empty();
    println!(
        "{} targets, {inputs} inputs, {findings} findings, {cpu_hours:.2} h; missing: {missing:?}; \
         short of {}: {short:?}",
        reports.len(),
        a.inputs
    );
    let json = serde_json::json!({
        "inputs_required": a.inputs,
        "complete": complete,
        "findings": findings,
        "inputs": inputs,
        "target_hours": (cpu_hours * 100.0).round() / 100.0,
        "missing": missing,
        "short": short,
        "targets": avwm_fuzz::engine::summary(&reports),
    });
    let bytes = serde_json::to_vec_pretty(&json).map_err(|e| e.to_string())?;
    write_atomic(&a.out.join("summary.json"), &bytes)?;
    Ok(complete && findings == 0)
}

enum Msg {
    Line(String),
    Eof,
}

/// A target's checkpoint between segments (`<out>/resume/<target>.json`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Checkpoint {
    /// Seed of the run.
    seed: u64,
    /// Inputs per segment.
    segment: u64,
    /// The next input to run (a segment boundary, or the end of the run).
    next: u64,
    /// The report of inputs `0..next` (findings' inputs already saved).
    report: Report,
}

/// [`avwm_core::fs::write_atomic`], its error as a message.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    avwm_core::fs::write_atomic(path, bytes).map_err(|e| e.to_string())
}

/// Runs target `name` segment by segment, checkpointing after each; with `--resume`, starts
/// after the checkpoint's last segment. Returns the report and whether any segment ran (false
/// for a target whose checkpoint was already complete).
fn segments(
    a: &Args,
    name: &str,
    scratch: &Path,
    findings: &Path,
    pb: &ProgressBar,
) -> Result<(Report, bool), String> {
    let dir = a.out.join("resume");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let ckpt_path = dir.join(format!("{name}.json"));
    let mut ckpt = Checkpoint {
        seed: a.seed,
        segment: a.segment,
        next: 0,
        report: Report {
            target: name.to_string(),
            seed: a.seed,
            ..Report::default()
        },
    };
    if a.resume && ckpt_path.is_file() {
        let saved: Checkpoint = std::fs::read(&ckpt_path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            .map_err(|e| {
                format!(
                    "{}: not a checkpoint of avwm-fuzz: {e}",
                    ckpt_path.display()
                )
            })?;
        if saved.seed != a.seed || saved.segment != a.segment {
            return Err(format!(
                "{}: the checkpoint is of seed {} with segments of {}, not seed {} with segments of \
                 {} (run without --resume to start again)",
                ckpt_path.display(),
                saved.seed,
                saved.segment,
                a.seed,
                a.segment
            ));
        }
        if saved.next > a.inputs
            || (!saved.next.is_multiple_of(a.segment) && saved.next != a.inputs)
        {
            return Err(format!(
                "{}: the checkpoint has run {} inputs, more than --inputs {} or not at a segment \
                 boundary",
                ckpt_path.display(),
                saved.next,
                a.inputs
            ));
        }
        ckpt = saved;
    }
    pb.set_position(ckpt.next);
    let ran = ckpt.next < a.inputs;
    let base_seconds = ckpt.report.seconds;
    let t0 = Instant::now();
    while ckpt.next < a.inputs {
        let end = (ckpt.next / a.segment + 1)
            .saturating_mul(a.segment)
            .min(a.inputs);
        let r = supervise(a, name, ckpt.next, end, scratch, findings, pb)?;
        merge(&mut ckpt.report, r);
        ckpt.next = end;
        ckpt.report
            .save_findings(findings)
            .map_err(|e| format!("{}: {e}", findings.display()))?;
        ckpt.report.seconds = base_seconds + t0.elapsed().as_secs_f64();
        ckpt.report.inputs_per_s = ckpt.report.inputs as f64 / ckpt.report.seconds.max(1e-9);
        let json = serde_json::to_vec_pretty(&ckpt).map_err(|e| e.to_string())?;
        write_atomic(&ckpt_path, &json)?;
    }
    Ok((ckpt.report, ran))
}

/// Runs inputs `first..end` of target `name` in child processes (a new one after each death).
fn supervise(
    a: &Args,
    name: &str,
    first: u64,
    end: u64,
    scratch: &Path,
    findings: &Path,
    pb: &ProgressBar,
) -> Result<Report, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let prlimit = Path::new("/usr/bin/prlimit").is_file();
    let mut total = Report {
        target: name.to_string(),
        seed: a.seed,
        ..Report::default()
    };
    let t0 = Instant::now();
    let mut start = first;
    let current = scratch.join("current.bin");
    while start < end {
        std::fs::create_dir_all(scratch).map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(&current);
        let mut cmd = if prlimit {
            let mut c = Command::new("/usr/bin/prlimit");
            c.arg(format!("--data={CHILD_DATA_LIMIT}"))
                .arg("--")
                .arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.arg("__child")
            .args(["--target", name])
            .args(["--inputs", &end.to_string()])
            .args(["--seed", &a.seed.to_string()])
            .args(["--start", &start.to_string()])
            .arg("--scratch")
            .arg(scratch)
            .arg("--findings")
            .arg(findings);
        if let Some(c) = &a.paths.corpus {
            cmd.arg("--corpus").arg(c);
        }
        if let Some(f) = &a.paths.fixtures {
            cmd.arg("--fixtures").arg(f);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", exe.display()))?;
        let stdout = child.stdout.take().ok_or("no child stdout")?;
        let mut stderr = child.stderr.take().ok_or("no child stderr")?;
        let err_thread = std::thread::spawn(move || {
            // Keep the last 4 kB of the child's stderr (the abort message).
            let mut tail = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > 4096 {
                    tail.drain(..tail.len() - 4096);
                }
            }
            String::from_utf8_lossy(&tail).into_owned()
        });
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(Msg::Line(l)).is_err() {
                            return;
                        }
                    }
                    Err(_) => break,
                }
            }
            let _ = tx.send(Msg::Eof);
        });
        let mut done: Option<Report> = None;
        let mut last_index = start;
        let mut stalled = false;
        loop {
            match rx.recv_timeout(Duration::from_secs(STALL_S)) {
                Ok(Msg::Line(l)) => {
                    if let Some(i) = l.strip_prefix("progress ") {
                        if let Ok(i) = i.trim().parse::<u64>() {
                            last_index = i;
                            pb.set_position(i + 1);
                        }
                    } else if let Some(j) = l.strip_prefix("report ") {
                        done = serde_json::from_str(j).ok();
                    }
                }
                Ok(Msg::Eof) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    stalled = true;
                    let _ = child.kill();
                    break;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        let err_tail = err_thread.join().unwrap_or_default();
        if let Some(r) = done.filter(|_| !stalled) {
            merge(&mut total, r);
            break;
        }
        // The child died or stalled on the input in current.bin.
        let (index, bytes) = match std::fs::read(&current) {
            Ok(b) if b.len() >= 8 => {
                let mut i = [0u8; 8];
                i.copy_from_slice(&b[..8]);
                (u64::from_le_bytes(i), b[8..].to_vec())
            }
            _ => (last_index, Vec::new()),
        };
        // The child's last words (e.g. "thread 'main' has overflowed its stack", "memory
        // allocation of … bytes failed"): its last three non-empty stderr lines.
        let lines: Vec<&str> = err_tail.lines().filter(|l| !l.trim().is_empty()).collect();
        let last_err: String = lines[lines.len().saturating_sub(3)..]
            .join(" | ")
            .chars()
            .take(600)
            .collect();
        let (kind, message) = if stalled {
            (
                Kind::Hang,
                format!("no progress for {STALL_S} s (child killed)"),
            )
        } else {
            (Kind::Abort, format!("child {status}: {last_err}"))
        };
        // Inputs between the child's last report and its death count as run.
        total.inputs += index + 1 - start;
        total.add(Finding {
            kind,
            message,
            input_index: index,
            hash: hash_hex(&bytes),
            input: None,
            count: 1,
            bytes,
        });
        start = index + 1;
    }
    total.seconds = t0.elapsed().as_secs_f64();
    total.inputs_per_s = total.inputs as f64 / total.seconds.max(1e-9);
    Ok(total)
}

fn merge(total: &mut Report, r: Report) {
    total.inputs += r.inputs;
    total.ok += r.ok;
    total.errors += r.errors;
    total.distinct_errors = total.distinct_errors.max(r.distinct_errors);
    total.corpus = total.corpus.max(r.corpus);
    total.slowest_s = total.slowest_s.max(r.slowest_s);
    total.slowest_cpu_s = total.slowest_cpu_s.max(r.slowest_cpu_s);
    for s in r.error_sample {
        if total.error_sample.len() < 50 && !total.error_sample.contains(&s) {
            total.error_sample.push(s);
        }
    }
    for f in r.panics.into_iter().chain(r.aborts).chain(r.hangs) {
        total.add(f);
    }
}

/// `__child`: runs inputs `start..inputs` of one target, announcing each on stdout.
fn child(a: &Args) -> Result<(), String> {
    let scratch = a.scratch.clone().ok_or("--scratch is required")?;
    let findings = a.findings.clone().ok_or("--findings is required")?;
    let target = targets::build(&a.target, &scratch, &paths(&a.paths))?;
    let mut f = Fuzzer::new(target, a.seed, a.start);
    let current = scratch.join("current.bin");
    let out = std::io::stdout();
    let t = Instant::now();
    let mut last = Instant::now();
    let mut buf = Vec::new();
    for i in a.start..a.inputs {
        let input = f.next_input(i, true);
        buf.clear();
        buf.extend_from_slice(&i.to_le_bytes());
        buf.extend_from_slice(&input);
        std::fs::write(&current, &buf).map_err(|e| format!("{}: {e}", current.display()))?;
        f.execute(i, input);
        if last.elapsed() > Duration::from_millis(100) || i + 1 == a.inputs {
            let mut o = out.lock();
            let _ = writeln!(o, "progress {i}");
            let _ = o.flush();
            last = Instant::now();
        }
    }
    f.finish(t.elapsed().as_secs_f64());
    f.report.redact_scratch(&scratch);
    f.report
        .save_findings(&findings)
        .map_err(|e| format!("{}: {e}", findings.display()))?;
    let json = serde_json::to_string(&f.report).map_err(|e| e.to_string())?;
    let mut o = out.lock();
    let _ = writeln!(o, "report {json}");
    let _ = o.flush();
    Ok(())
}
