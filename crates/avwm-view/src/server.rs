//! `avwm view`: a local web page on 127.0.0.1 to drive the agent with the keys, the simulator's
//! view beside the world model's imagination of the same action.
//!
//! The server is one thread answering one request at a time (one session, one user):
//!
//! | request | answer |
//! |---|---|
//! | `GET /` | the page |
//! | `GET /api/state` | the current frame, its spectrogram and audio, the map, pose and distance |
//! | `POST /api/reset?seed=N` | a new episode, then as `/api/state` |
//! | `POST /api/step?action=forward\|left\|right\|stop&k=K` | the imagination of K steps of the action (K = 1…8), then the true step: frames, spectrograms, audio, predicted and true reward, timings |
//! | `POST /api/quit` | stops the server |
//!
//! Errors answer 400 (bad request), 404 (unknown path), 405 (wrong method) or 500 with a JSON
//! body `{"error": "…"}`; the server keeps running.

use crate::media::{png_uri, spectrogram_uri, wav_uri};
use crate::session::{Session, StepRecord};
use crate::{Imagined, Result, ViewError};
use avwm_core::{Action, Observation};
use serde_json::{Value, json};
use std::net::SocketAddr;
use tiny_http::{Header, Method, Request, Response, Server};

/// The page served at `/`.
pub const PAGE: &str = include_str!("page.html");

/// Largest number of imagined steps per request.
pub const MAX_LOOKAHEAD: usize = 8;

fn observation_json(obs: &Observation) -> Result<Value> {
    Ok(json!({
        "rgb": png_uri(&obs.rgb)?,
        "spectrogram": spectrogram_uri(&obs.audio)?,
        "audio": wav_uri(&obs.audio)?,
    }))
}

fn imagined_json(im: &Imagined) -> Result<Value> {
    Ok(json!({
        "rgb": png_uri(&im.rgb)?,
        "spectrogram": spectrogram_uri(&im.audio)?,
        "audio": wav_uri(&im.audio)?,
        "reward_token_m": im.reward_token_m,
        "expected_reward_m": im.expected_reward_m,
        "p_success": im.p_success,
    }))
}

fn state_json(session: &Session) -> Result<Value> {
    let obs = session.current().ok_or(ViewError::NoObservation)?;
    let st = session.sim().state().ok_or(ViewError::NoObservation)?;
    Ok(json!({
        "scene": session.sim().scene().name,
        "step": st.steps,
        "pose": [st.pose.x, st.pose.y, st.pose.yaw],
        "geodesic_m": st.geodesic_m,
        "done": st.done,
        "success": st.success,
        "truth": observation_json(obs)?,
        "map": png_uri(&session.map())?,
        "history": session.imaginer().history(),
    }))
}

/// The answer of `POST /api/step` for a step record.
pub(crate) fn step_json(session: &Session, r: &StepRecord) -> Result<Value> {
    let mut v = state_json(session)?;
    v["action"] = json!(r.action.name());
    v["imagined"] = Value::Array(
        r.imagined
            .iter()
            .map(imagined_json)
            .collect::<Result<Vec<_>>>()?,
    );
    v["distance_reduction_m"] = json!(r.distance_reduction_m);
    v["reward"] = json!(r.reward);
    v["imagine_ms"] = json!(r.imagine_ms);
    v["sim_ms"] = json!(r.sim_ms);
    Ok(v)
}

/// The value of `key` in a query string.
fn query<'a>(url: &'a str, key: &str) -> Option<&'a str> {
    url.split_once('?')?
        .1
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// An HTTP answer: status and JSON or HTML body.
struct Answer {
    status: u16,
    body: String,
    html: bool,
}

impl Answer {
    fn json(v: &Value) -> Answer {
        Answer {
            status: 200,
            body: v.to_string(),
            html: false,
        }
    }

    fn error(status: u16, msg: impl std::fmt::Display) -> Answer {
        Answer {
            status,
            body: json!({ "error": msg.to_string() }).to_string(),
            html: false,
        }
    }
}

/// Answers one request; `Ok(None)` asks the server to stop.
fn route(session: &mut Session, method: &Method, url: &str, seed: &mut u64) -> Option<Answer> {
    let path = url.split('?').next().unwrap_or("");
    let post = *method == Method::Post;
    let result = match (path, post) {
        ("/", false) | ("/index.html", false) => {
            return Some(Answer {
                status: 200,
                body: PAGE.to_string(),
                html: true,
            });
        }
        ("/api/state", false) => state_json(session),
        ("/api/reset", true) => {
            if let Some(s) = query(url, "seed") {
                match s.parse::<u64>() {
                    Ok(s) => *seed = s,
                    Err(_) => {
                        return Some(Answer::error(400, format!("seed {s:?} is not a number")));
                    }
                }
            }
            session
                .reset(*seed, None)
                .map(|_| ())
                .and_then(|()| state_json(session))
        }
        ("/api/step", true) => {
            let Some(action) = query(url, "action").and_then(Action::parse) else {
                return Some(Answer::error(
                    400,
                    "action must be forward, left, right or stop",
                ));
            };
            let k = match query(url, "k").map(str::parse::<usize>) {
                None => 1,
                Some(Ok(k)) if (1..=MAX_LOOKAHEAD).contains(&k) => k,
                Some(_) => {
                    return Some(Answer::error(
                        400,
                        format!("k must be a number from 1 to {MAX_LOOKAHEAD}"),
                    ));
                }
            };
            match session.step(action, k) {
                Ok(r) => step_json(session, &r),
                Err(ViewError::Invalid(m)) => return Some(Answer::error(400, m)),
                Err(e) => Err(e),
            }
        }
        ("/api/quit", true) => return None,
        ("/" | "/index.html" | "/api/state", true)
        | ("/api/reset" | "/api/step" | "/api/quit", false) => {
            return Some(Answer::error(
                405,
                format!("{method} is not allowed on {path}"),
            ));
        }
        _ => return Some(Answer::error(404, format!("no such page: {path}"))),
    };
    Some(match result {
        Ok(v) => Answer::json(&v),
        Err(e @ ViewError::NoObservation) => Answer::error(400, e),
        Err(e) => Answer::error(500, e),
    })
}

fn respond(req: Request, a: Answer) {
    let kind = if a.html {
        "text/html; charset=utf-8"
    } else {
        "application/json"
    };
    let header =
        Header::from_bytes(&b"Content-Type"[..], kind.as_bytes()).expect("a static, valid header");
    let no_store = Header::from_bytes(&b"Cache-Control"[..], &b"no-store"[..])
        .expect("a static, valid header");
    let resp = Response::from_string(a.body)
        .with_status_code(a.status)
        .with_header(header)
        .with_header(no_store);
    // A client that went away is not the server's problem.
    let _ = req.respond(resp);
}

/// Serves `session` on `addr` (e.g. `127.0.0.1:8765`; port 0 picks a free one) until
/// `POST /api/quit`. The session is reset to episode `seed` first; `on_ready` gets the bound
/// address.
///
/// # Errors
/// The address cannot be bound; the first reset fails.
pub fn serve(
    mut session: Session,
    addr: &str,
    mut seed: u64,
    on_ready: &mut dyn FnMut(SocketAddr),
) -> Result<()> {
    session.reset(seed, None)?;
    let server =
        Server::http(addr).map_err(|e| ViewError::Server(format!("binding {addr}: {e}")))?;
    let bound = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| ViewError::Server(format!("{addr} is not an IP address")))?;
    on_ready(bound);
    for mut req in server.incoming_requests() {
        // Bodies are not used; drain them so that the connection stays usable.
        let _ = std::io::copy(&mut req.as_reader(), &mut std::io::sink());
        let method = req.method().clone();
        let url = req.url().to_string();
        match route(&mut session, &method, &url, &mut seed) {
            Some(a) => respond(req, a),
            None => {
                respond(req, Answer::json(&json!({ "quit": true })));
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_and_actions_parse() {
        assert_eq!(query("/api/step?action=left&k=3", "k"), Some("3"));
        assert_eq!(query("/api/step?action=left&k=3", "action"), Some("left"));
        assert_eq!(query("/api/step", "k"), None);
        assert_eq!(Action::parse("forward"), Some(Action::Forward));
        assert_eq!(Action::parse("stop"), Some(Action::Stop));
        assert_eq!(Action::parse("jump"), None);
    }

    #[test]
    fn the_page_binds_the_keys_and_the_api() {
        for needle in [
            "ArrowUp",
            "ArrowLeft",
            "ArrowRight",
            "/api/step",
            "/api/reset",
            "<audio",
        ] {
            assert!(PAGE.contains(needle), "page lacks {needle}");
        }
    }
}
