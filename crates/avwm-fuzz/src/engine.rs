//! Running a target on mutated inputs in this process: the oracle (`Err` is fine, a panic or an
//! input over [`HANG_S`] is a finding), the error-message feedback and the per-target report.

use crate::mutate::Mutator;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Instant;

/// An input that takes more CPU time than this (seconds, all threads of the process) is a finding.
pub const HANG_S: f64 = 1.0;

/// An input that takes longer than this wall-clock time (seconds) is a finding even if it used
/// little CPU (it blocked). The CPU limit [`HANG_S`] is the oracle for work: on the shared cores
/// here a wall-clock second is not a measure of it (another job can take the core away).
pub const HANG_WALL_S: f64 = 3.0;

/// What a target's run function returns: `Err` with the loader's error message (fine).
pub type RunResult = Result<(), String>;

/// A target's run function: the bytes of one user file in, the loader's verdict out.
pub type RunFn = Box<dyn FnMut(&[u8]) -> RunResult>;

/// A fuzz target: seeds and a function fed the bytes of one user file.
pub struct Target {
    /// Name (also the corpus folder's).
    pub name: &'static str,
    /// Text format: token-level edits apply.
    pub text: bool,
    /// Seed corpus.
    pub seeds: Vec<Vec<u8>>,
    /// Feeds the bytes to the loader exactly as a user's file would reach it.
    pub run: RunFn,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("seeds", &self.seeds.len())
            .finish_non_exhaustive()
    }
}

/// Kind of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The loader panicked.
    Panic,
    /// The process died (stack overflow, allocation failure, signal).
    Abort,
    /// One input took over [`HANG_S`] (or the child made no progress for 10 s).
    Hang,
}

/// One finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// Kind.
    pub kind: Kind,
    /// Panic message with location, exit status, or the time taken.
    pub message: String,
    /// Index of the input in the run.
    pub input_index: u64,
    /// FNV-1a hash of the input (hex), also the file name under `findings/<target>/`.
    pub hash: String,
    /// Where the input was saved (if saved).
    pub input: Option<PathBuf>,
    /// How many inputs hit the same finding (same kind and message without digits).
    pub count: u64,
    /// The input itself (not serialised; saved to a file).
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// The result of a run on one target (written as `<target>.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    /// Target name.
    pub target: String,
    /// Root seed.
    pub seed: u64,
    /// Inputs run.
    pub inputs: u64,
    /// Wall time (s).
    pub seconds: f64,
    /// Inputs per second.
    pub inputs_per_s: f64,
    /// Inputs the loader accepted.
    pub ok: u64,
    /// Inputs the loader rejected with an error.
    pub errors: u64,
    /// Distinct error messages (digits stripped). In a report of several segments (`run
    /// --segment`, a resumed run) the largest count of one segment: each segment's feedback
    /// starts afresh from the seeds and only the count is checkpointed, so this is a lower
    /// bound on the messages of the whole run.
    pub distinct_errors: usize,
    /// Corpus size at the end (seeds plus inputs kept for a new error message); over several
    /// segments the largest of one segment.
    pub corpus: usize,
    /// Slowest input (wall-clock s).
    pub slowest_s: f64,
    /// Most CPU time of one input (s, all threads).
    #[serde(default)]
    pub slowest_cpu_s: f64,
    /// Panics.
    pub panics: Vec<Finding>,
    /// Process deaths.
    pub aborts: Vec<Finding>,
    /// Inputs over the time limit.
    pub hangs: Vec<Finding>,
    /// A sample of the distinct error messages (at most 50).
    pub error_sample: Vec<String>,
}

impl Report {
    /// Number of findings of every kind.
    pub fn findings(&self) -> usize {
        self.panics.len() + self.aborts.len() + self.hangs.len()
    }

    /// Adds a finding, merging it with an earlier one of the same kind and message.
    pub fn add(&mut self, f: Finding) {
        let list = match f.kind {
            Kind::Panic => &mut self.panics,
            Kind::Abort => &mut self.aborts,
            Kind::Hang => &mut self.hangs,
        };
        // Panics and aborts are one finding per message (digits stripped); hangs have timing
        // messages, so they are kept apart, at most 20.
        let key = strip_digits(&f.message);
        let same = list
            .iter()
            .position(|o| f.kind != Kind::Hang && strip_digits(&o.message) == key);
        if let Some(i) = same.or_else(|| (list.len() >= 20).then(|| list.len() - 1)) {
            list[i].count += f.count;
            return;
        }
        list.push(f);
    }

    /// Replaces `path` (the scratch folder, a random temporary name) by `<scratch>` in the error
    /// sample and the findings' messages, so that reports of the same inputs are equal.
    pub fn redact_scratch(&mut self, path: &Path) {
        let from = path.display().to_string();
        if from.is_empty() {
            return;
        }
        for m in &mut self.error_sample {
            *m = m.replace(&from, "<scratch>");
        }
        for f in self
            .panics
            .iter_mut()
            .chain(self.aborts.iter_mut())
            .chain(self.hangs.iter_mut())
        {
            f.message = f.message.replace(&from, "<scratch>");
        }
    }

    /// Writes every finding's input to `dir/<hash>.bin` (and records the path).
    ///
    /// # Errors
    /// I/O.
    pub fn save_findings(&mut self, dir: &Path) -> std::io::Result<()> {
        for f in self
            .panics
            .iter_mut()
            .chain(self.aborts.iter_mut())
            .chain(self.hangs.iter_mut())
        {
            if f.input.is_none() {
                std::fs::create_dir_all(dir)?;
                let p = dir.join(format!("{}.bin", f.hash));
                std::fs::write(&p, &f.bytes)?;
                f.input = Some(p);
            }
        }
        Ok(())
    }
}

/// FNV-1a 64 of `b`, as 16 hex digits.
pub fn hash_hex(b: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= u64::from(x);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// `s` with every ASCII digit removed (error messages differing only in numbers are one).
pub fn strip_digits(s: &str) -> String {
    s.chars().filter(|c| !c.is_ascii_digit()).collect()
}

static HOOK: Once = Once::new();

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The last panic message on this thread (the hook runs on the panicking thread).
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Installs (once) a panic hook that, on threads running fuzz inputs, records the message and
/// location quietly instead of printing; other threads keep the default hook.
pub fn install_quiet_hook() {
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.with(std::cell::Cell::get) {
                let msg = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "<non-string panic payload>".into());
                let loc = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                    .unwrap_or_default();
                let line: String = format!("{msg} at {loc}").chars().take(2000).collect();
                // The last one: a loader may catch a panic of its own (sofar) and go on; the
                // panic that escapes is the last.
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(line));
            } else {
                default(info);
            }
        }));
    });
}

/// Outcome of one input.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Accepted.
    Ok,
    /// Rejected with this message.
    Err(String),
    /// Panicked with this message and location.
    Panic(String),
}

/// Time one input took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Took {
    /// Wall-clock seconds.
    pub wall: f64,
    /// CPU seconds of the whole process (every thread the loader used).
    pub cpu: f64,
}

impl Took {
    /// Over the limits: more than [`HANG_S`] of CPU or [`HANG_WALL_S`] of wall-clock time.
    pub fn is_hang(&self) -> bool {
        self.cpu > HANG_S || self.wall > HANG_WALL_S
    }
}

/// Runs one input under `catch_unwind` with the quiet hook; returns the outcome and its time.
pub fn run_one(run: &mut dyn FnMut(&[u8]) -> RunResult, input: &[u8]) -> (Outcome, Took) {
    install_quiet_hook();
    LAST_PANIC.with(|p| *p.borrow_mut() = None);
    QUIET.with(|q| q.set(true));
    let t = Instant::now();
    let c = cpu_time::ProcessTime::try_now().ok();
    let r = std::panic::catch_unwind(AssertUnwindSafe(|| run(input)));
    let wall = t.elapsed().as_secs_f64();
    // Without a process clock (not on Linux), the wall-clock time stands in for it.
    let cpu = c.map_or(wall, |c| c.elapsed().as_secs_f64());
    let dt = Took { wall, cpu };
    QUIET.with(|q| q.set(false));
    let outcome = match r {
        Ok(Ok(())) => Outcome::Ok,
        Ok(Err(e)) => Outcome::Err(e),
        Err(_) => Outcome::Panic(
            LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| "panic (message not recorded)".into()),
        ),
    };
    (outcome, dt)
}

/// Options of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Root seed.
    pub seed: u64,
    /// Index of the first input (a restarted child continues after the input that killed it).
    pub start: u64,
    /// Number of inputs (counting from 0, so `start..inputs` are run).
    pub inputs: u64,
    /// Run the seeds themselves first (only when `start == 0`).
    pub seeds_first: bool,
}

/// A fuzzing loop on one target: corpus with feedback, mutator, report.
pub struct Fuzzer {
    target: Target,
    corpus: Vec<Vec<u8>>,
    seen: HashSet<String>,
    mutator: Mutator,
    /// The report so far.
    pub report: Report,
}

impl std::fmt::Debug for Fuzzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fuzzer")
            .field("target", &self.target.name)
            .finish_non_exhaustive()
    }
}

impl Fuzzer {
    /// A fuzzer on `target`; inputs from `start` on are drawn from a stream derived from
    /// `(seed, start)`.
    pub fn new(target: Target, seed: u64, start: u64) -> Fuzzer {
        let mut corpus = target.seeds.clone();
        if corpus.is_empty() {
            corpus.push(Vec::new());
        }
        let mut mutator = Mutator::new(seed ^ start.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let largest = corpus.iter().map(Vec::len).max().unwrap_or(0);
        mutator.max_len = mutator.max_len.max(2 * largest);
        Fuzzer {
            report: Report {
                target: target.name.to_string(),
                seed,
                ..Report::default()
            },
            target,
            corpus,
            seen: HashSet::new(),
            mutator,
        }
    }

    /// The target's name.
    pub fn name(&self) -> &'static str {
        self.target.name
    }

    /// The `i`-th input: a seed while `i < seeds` (if `seeds_first`), else a mutant.
    pub fn next_input(&mut self, i: u64, seeds_first: bool) -> Vec<u8> {
        use rand::Rng;
        if seeds_first && (i as usize) < self.target.seeds.len() {
            return self.target.seeds[i as usize].clone();
        }
        let n = self.corpus.len();
        // Prefer the seeds half of the time: they are the valid files.
        let a = if self.mutator.rng().random_bool(0.5) {
            self.mutator
                .rng()
                .random_range(0..self.target.seeds.len().max(1))
        } else {
            self.mutator.rng().random_range(0..n)
        }
        .min(n - 1);
        let b = self.mutator.rng().random_range(0..n);
        let (text, input, other) = (self.target.text, &self.corpus[a], &self.corpus[b]);
        let (input, other) = (input.clone(), other.clone());
        self.mutator.mutate(&input, &other, text)
    }

    /// Runs one input and records its outcome; returns the outcome and its time.
    pub fn execute(&mut self, i: u64, input: Vec<u8>) -> (Outcome, Took) {
        let (outcome, dt) = run_one(&mut *self.target.run, &input);
        self.report.inputs += 1;
        self.report.slowest_s = self.report.slowest_s.max(dt.wall);
        self.report.slowest_cpu_s = self.report.slowest_cpu_s.max(dt.cpu);
        match &outcome {
            Outcome::Ok => self.report.ok += 1,
            Outcome::Err(e) => {
                self.report.errors += 1;
                let key = strip_digits(e);
                if self.seen.insert(key) {
                    if self.report.error_sample.len() < 50 {
                        self.report.error_sample.push(e.chars().take(300).collect());
                    }
                    if self.corpus.len() < 4096 {
                        self.corpus.push(input.clone());
                    }
                }
            }
            Outcome::Panic(m) => self.report.add(Finding {
                kind: Kind::Panic,
                message: m.clone(),
                input_index: i,
                hash: hash_hex(&input),
                input: None,
                count: 1,
                bytes: input.clone(),
            }),
        }
        if dt.is_hang() {
            self.report.add(Finding {
                kind: Kind::Hang,
                message: format!(
                    "input took {:.2} s of CPU, {:.2} s of wall-clock time (limits {HANG_S} s, \
                     {HANG_WALL_S} s)",
                    dt.cpu, dt.wall
                ),
                input_index: i,
                hash: hash_hex(&input),
                input: None,
                count: 1,
                bytes: input,
            });
        }
        self.report.distinct_errors = self.seen.len();
        self.report.corpus = self.corpus.len();
        (outcome, dt)
    }

    /// Runs `opts.start..opts.inputs`, calling `progress` after each input.
    pub fn run(&mut self, opts: &RunOptions, mut progress: impl FnMut(u64)) -> &Report {
        let t = Instant::now();
        for i in opts.start..opts.inputs {
            let input = self.next_input(i, opts.seeds_first && opts.start == 0);
            self.execute(i, input);
            progress(i);
        }
        self.finish(t.elapsed().as_secs_f64());
        &self.report
    }

    /// Fills in the timing fields.
    pub fn finish(&mut self, seconds: f64) {
        self.report.seconds = seconds;
        self.report.inputs_per_s = if seconds > 0.0 {
            self.report.inputs as f64 / seconds
        } else {
            0.0
        };
    }
}

/// Counts of findings by kind over several reports (for summaries).
pub fn summary(reports: &[Report]) -> BTreeMap<String, serde_json::Value> {
    reports
        .iter()
        .map(|r| {
            (
                r.target.clone(),
                serde_json::json!({
                    "inputs": r.inputs,
                    "inputs_per_s": (r.inputs_per_s * 10.0).round() / 10.0,
                    "distinct_errors": r.distinct_errors,
                    "panics": r.panics.len(),
                    "aborts": r.aborts.len(),
                    "hangs": r.hangs.len(),
                    "slowest_s": (r.slowest_s * 1000.0).round() / 1000.0,
                    "slowest_cpu_s": (r.slowest_cpu_s * 1000.0).round() / 1000.0,
                }),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(panic_on: u8) -> Target {
        Target {
            name: "toy",
            text: false,
            seeds: vec![b"hello".to_vec()],
            run: Box::new(move |b: &[u8]| {
                if b.first() == Some(&panic_on) {
                    let v: Vec<u8> = Vec::new();
                    let _ = v[b.len()]; // index out of bounds
                }
                if b.len() > 3 {
                    Ok(())
                } else {
                    Err(format!("too short: {}", b.len()))
                }
            }),
        }
    }

    #[test]
    fn a_panicking_toy_target_is_reported() {
        let mut f = Fuzzer::new(toy(0), 1, 0);
        let r = f.run(
            &RunOptions {
                seed: 1,
                start: 0,
                inputs: 3000,
                seeds_first: true,
            },
            |_| {},
        );
        assert_eq!(r.inputs, 3000);
        assert_eq!(r.panics.len(), 1, "{:?}", r.panics);
        assert!(r.panics[0].message.contains("index out of bounds"));
        assert!(r.panics[0].message.contains("engine.rs"));
        assert_eq!(r.panics[0].bytes.first(), Some(&0));
        assert!(r.distinct_errors >= 1);
    }

    #[test]
    fn a_quiet_target_has_no_findings() {
        let mut f = Fuzzer::new(toy(b'\x01'), 2, 0);
        // Only if a mutant starts with 0x01 would it panic; the toy is otherwise clean.
        let r = f.run(
            &RunOptions {
                seed: 2,
                start: 0,
                inputs: 50,
                seeds_first: true,
            },
            |_| {},
        );
        assert_eq!(r.hangs.len(), 0);
    }
}
