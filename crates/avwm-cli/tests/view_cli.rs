//! `avwm demo` and `avwm view` end to end with the shipped models: the demo page, and the viewer
//! driven with real key presses in headless Chromium (Debian's chromium and chromium-driver,
//! installed by `scripts/setup-browser.sh`, part of the README's test command).

mod common;

use common::{ok, read_json};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model_args() -> Vec<String> {
    let m = |s: &str| repo().join("models").join(s).to_str().unwrap().to_string();
    vec![
        "--model".into(),
        m("avwm-small"),
        "--visual-tokenizer".into(),
        m("tokenizer-visual"),
        "--audio-tokenizer".into(),
        m("tokenizer-audio-mdct"),
        "--threads".into(),
        "2".into(),
    ]
}

#[test]
fn demo_writes_one_self_contained_page_scored_against_copying() {
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("nested/demo.html");
    let mut args: Vec<String> = ["demo", "--steps", "4", "--out", page.to_str().unwrap()]
        .map(String::from)
        .to_vec();
    args.extend(model_args());
    let out = ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let html = std::fs::read_to_string(&page).expect("the page exists");
    // Self-contained: every picture and sound is inline.
    assert!(!html.contains("src=\"http"), "no external resources");
    assert_eq!(
        html.matches("<audio controls src=\"data:audio/wav;base64,")
            .count(),
        1 + 2 * 4
    );
    // Each step row: before, truth, imagined frames and two spectrograms.
    assert_eq!(html.matches("alt=\"imagined\"").count(), 4);
    assert!(html.contains("<svg") && html.contains("reward head E[r]"));
    let summary = read_json(&tmp.path().join("nested/summary.json"));
    assert_eq!(summary["steps"], 4);
    let s = &summary["scores"];
    for k in ["psnr_model", "psnr_copy", "lsd_model", "lsd_copy"] {
        let v = s[k].as_f64().unwrap_or(f64::NAN);
        assert!(v.is_finite() && v > 0.0, "{k} = {v}");
    }
    // The imagined frames are images of the scene, not noise: well above 10 dB.
    assert!(s["psnr_model"].as_f64().unwrap() > 12.0, "{s}");
    let printed: Value = serde_json::from_slice(&out.stdout).expect("JSON summary on stdout");
    assert_eq!(printed["steps"], 4);
}

#[test]
fn demo_refuses_a_model_with_the_wrong_audio_tokenizer() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = ["demo", "--steps", "1", "--out"].map(String::from).to_vec();
    args.push(tmp.path().join("d.html").to_str().unwrap().into());
    args.extend(model_args());
    let i = args.iter().position(|a| a == "--audio-tokenizer").unwrap();
    args[i + 1] = repo()
        .join("models/tokenizer-audio")
        .to_str()
        .unwrap()
        .into();
    let out = common::avwm(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tokenizer-audio") && err.contains("scale"),
        "{err}"
    );
    assert!(!tmp.path().join("d.html").exists());
}

/// A process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(120)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// A WebDriver session on chromedriver.
struct Driver {
    http: ureq::Agent,
    base: String,
}

impl Driver {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let mut resp = match (method, body) {
            ("GET", _) => self.http.get(&url).call(),
            ("DELETE", _) => self.http.delete(&url).call(),
            (_, Some(b)) => self.http.post(&url).send_json(&b),
            (_, None) => self.http.post(&url).send_json(json!({})),
        }
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status();
        let v: Value = resp.body_mut().read_json().expect("WebDriver answers JSON");
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v["value"].clone()
    }

    fn script(&self, session: &str, js: &str) -> Value {
        self.call(
            "POST",
            &format!("/session/{session}/execute/sync"),
            Some(json!({ "script": js, "args": [] })),
        )
    }

    fn key(&self, session: &str, key: &str) {
        self.call(
            "POST",
            &format!("/session/{session}/actions"),
            Some(
                json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
                    { "type": "keyDown", "value": key }, { "type": "keyUp", "value": key }
                ]}]}),
            ),
        );
    }

    fn wait_for(&self, session: &str, js: &str, what: &str) -> Value {
        let t = Instant::now();
        loop {
            let v = self.script(session, js);
            if v.as_bool() == Some(true) || (v.is_string() && v != "") {
                return v;
            }
            assert!(
                t.elapsed() < Duration::from_secs(120),
                "timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn view_is_driven_by_keys_in_headless_chromium() {
    let (chromium, chromedriver) = ("/usr/bin/chromium", "/usr/bin/chromedriver");
    assert!(
        Path::new(chromium).is_file() && Path::new(chromedriver).is_file(),
        "Chromium and ChromeDriver are missing: run scripts/setup-browser.sh (the README's test command does)"
    );
    let mut args: Vec<String> = ["view", "--addr", "127.0.0.1:0"].map(String::from).to_vec();
    args.extend(model_args());
    let mut view = Killed(
        Command::new(env!("CARGO_BIN_EXE_avwm"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("avwm view starts"),
    );
    let mut line = String::new();
    BufReader::new(view.0.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("the viewer prints its address");
    let url = line.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");
    let http = agent();
    // Error paths answer JSON errors and leave the server running.
    let mut r = http
        .post(format!("{url}api/step?action=jump"))
        .send_empty()
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.body_mut().read_json().unwrap();
    assert!(e["error"].as_str().unwrap().contains("forward"), "{e}");
    assert_eq!(http.get(format!("{url}nope")).call().unwrap().status(), 404);
    assert_eq!(
        http.get(format!("{url}api/step")).call().unwrap().status(),
        405
    );
    let r = http
        .post(format!("{url}api/step?action=left&k=99"))
        .send_empty()
        .unwrap();
    assert_eq!(r.status(), 400);

    let port = free_port();
    let _driver_proc = Killed(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let d = Driver {
        http: agent(),
        base: format!("http://127.0.0.1:{port}"),
    };
    let t = Instant::now();
    while d.http.get(format!("{}/status", d.base)).call().is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let profile = tempfile::tempdir().unwrap();
    let caps = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome",
    "goog:chromeOptions": { "binary": chromium, "args": [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=1280,1100", format!("--user-data-dir={}", profile.path().display())
    ]}}}});
    let session = d.call("POST", "/session", Some(caps))["sessionId"]
        .as_str()
        .expect("a session id")
        .to_string();
    d.call(
        "POST",
        &format!("/session/{session}/url"),
        Some(json!({ "url": url })),
    );
    let attr = |id: &str| format!("(document.getElementById('{id}').getAttribute('src') || '')");
    let src = |id: &str| format!("return {}", attr(id));
    d.wait_for(
        &session,
        &format!("return {}.length > 100", attr("truth")),
        "the first frame",
    );
    let first = d.script(&session, &src("truth"));
    let step_is = |n: u32| format!("return document.body.dataset.step === '{n}'");

    // ArrowUp: forward. The true frame changes, an imagined frame and both sounds appear.
    d.key(&session, "\u{E013}");
    d.wait_for(&session, &step_is(1), "step 1");
    let truth1 = d.script(&session, &src("truth"));
    let imagined1 = d.script(&session, &src("imagined"));
    assert_ne!(truth1, first, "forward changes the view");
    assert!(
        imagined1
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    for id in ["truth-audio", "imagined-audio"] {
        assert!(
            d.script(&session, &src(id))
                .as_str()
                .unwrap()
                .starts_with("data:audio/wav;base64,")
        );
    }
    let head = d.script(
        &session,
        "return document.getElementById('reward-head').textContent",
    );
    assert!(
        head.as_str().unwrap().parse::<f64>().is_ok(),
        "the reward head's number: {head}"
    );
    // The sound decodes in the browser: two ears of 2400 samples at 16 kHz, not silent.
    let decoded = d.call(
        "POST",
        &format!("/session/{session}/execute/async"),
        Some(json!({ "args": [], "script": "const done = arguments[arguments.length - 1];
            (async () => {
              const out = [];
              for (const id of ['truth-audio', 'imagined-audio']) {
                const buf = await (await fetch(document.getElementById(id).src)).arrayBuffer();
                const ab = await new OfflineAudioContext(2, 2400, 16000).decodeAudioData(buf);
                let peak = 0;
                for (let c = 0; c < ab.numberOfChannels; c++) for (const x of ab.getChannelData(c)) peak = Math.max(peak, Math.abs(x));
                out.push([ab.numberOfChannels, ab.length, peak]);
              }
              return out;
            })().then(done, (e) => done(String(e)));" })),
    );
    for a in decoded
        .as_array()
        .unwrap_or_else(|| panic!("decoding failed: {decoded}"))
    {
        assert_eq!(
            (a[0].as_u64(), a[1].as_u64()),
            (Some(2), Some(2400)),
            "{decoded}"
        );
        assert!(a[2].as_f64().unwrap() > 1e-5, "silent audio: {decoded}");
    }

    // ArrowLeft: turn. Both the true and the imagined frame change again.
    d.key(&session, "\u{E012}");
    d.wait_for(&session, &step_is(2), "step 2");
    assert_ne!(d.script(&session, &src("truth")), truth1);
    assert_ne!(d.script(&session, &src("imagined")), imagined1);

    // "3" asks for three imagined steps ahead; ArrowRight turns right.
    d.key(&session, "3");
    d.key(&session, "\u{E014}");
    d.wait_for(&session, &step_is(3), "step 3");
    let ahead = d.script(
        &session,
        "return document.querySelectorAll('#ahead img').length",
    );
    assert_eq!(ahead, 3);
    let status = d.script(
        &session,
        "return document.getElementById('status').textContent",
    );
    assert!(
        status.as_str().unwrap().contains("imagined 3 step(s)"),
        "{status}"
    );
    assert_eq!(
        d.script(
            &session,
            "return document.getElementById('error').textContent"
        ),
        ""
    );

    // A screenshot is kept as the test's artefact.
    let png = d.call("GET", &format!("/session/{session}/screenshot"), None);
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(png.as_str().unwrap())
        .unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("view-screenshot.png");
    std::fs::write(&shot, &bytes).unwrap();
    eprintln!("screenshot: {}", shot.display());
    d.call("DELETE", &format!("/session/{session}"), None);

    let r = http.post(format!("{url}api/quit")).send_empty().unwrap();
    assert_eq!(r.status(), 200);
    let t = Instant::now();
    loop {
        if let Some(s) = view.0.try_wait().unwrap() {
            assert!(s.success(), "the viewer exits cleanly");
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the viewer did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
