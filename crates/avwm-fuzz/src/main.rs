//! `avwm-fuzz`: fuzz avwm's loaders of user files on stable Rust.
//!
//! ```text
//! avwm-fuzz list
//! avwm-fuzz run --target NAME|all [--inputs N] [--seed S] [--out fuzz/results] [--in-process]
//! avwm-fuzz build-corpus [--corpus DIR] [--fixtures DIR]
//! ```
//! `run` executes each target in a child process (`avwm-fuzz __child …`, a re-exec of this
//! binary). The child writes the input it is about to run to `<scratch>/current.bin` (8-byte
//! index, then the bytes); when the child dies (abort, stack overflow, signal) or reports no
//! progress for 10 s, the parent records that input as a finding and restarts the child after it.

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
    /// Run in this process instead of child processes (an abort then ends the run).
    #[arg(long)]
    in_process: bool,
    #[command(flatten)]
    paths: PathArgs,
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
        let mut report = if a.in_process {
            let target = targets::build(name, &scratch, &paths(&a.paths))?;
            let mut f = Fuzzer::new(target, a.seed, 0);
            let opts = RunOptions {
                seed: a.seed,
                start: 0,
                inputs: a.inputs,
                seeds_first: true,
            };
            f.run(&opts, |i| pb.set_position(i + 1));
            f.report.clone()
        } else {
            supervise(a, name, &scratch, &findings, &pb)?
        };
        report
            .save_findings(&findings)
            .map_err(|e| format!("{}: {e}", findings.display()))?;
        pb.finish_with_message(format!("{name}: {} findings", report.findings()));
        let path = a.out.join(format!("{name}.json"));
        let json = serde_json::to_vec_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
        reports.push(report);
    }
    let summary = avwm_fuzz::engine::summary(&reports);
    println!(
        "{}",
        serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?
    );
    Ok(reports.iter().all(|r| r.findings() == 0))
}

enum Msg {
    Line(String),
    Eof,
}

/// Runs target `name` in child processes until `a.inputs` inputs are done.
fn supervise(
    a: &Args,
    name: &str,
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
    let mut start = 0u64;
    let current = scratch.join("current.bin");
    while start < a.inputs {
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
            .args(["--inputs", &a.inputs.to_string()])
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
    f.report
        .save_findings(&findings)
        .map_err(|e| format!("{}: {e}", findings.display()))?;
    let json = serde_json::to_string(&f.report).map_err(|e| e.to_string())?;
    let mut o = out.lock();
    let _ = writeln!(o, "report {json}");
    let _ = o.flush();
    Ok(())
}
