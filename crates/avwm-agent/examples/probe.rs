//! Diagnostic: how much of the expert's action and of the goal's bearing one frame reveals.
use avwm_agent::config::{AgentConfig, NetConfig};
use avwm_agent::envs::{EnvPool, EpisodeFilter, agent_sim_config, split_scenes};
use avwm_agent::net::Agent;
use avwm_agent::obs::stack;
use avwm_core::{Action, Seed};
use avwm_data::Split;
use avwm_nn::optim::{AdamW, AdamWConfig};
use rand::Rng;
use tch::{Device, Kind, Tensor};

struct Set {
    rgb: Tensor,
    audio: Tensor,
    expert: Tensor,
    label: Tensor,
}

fn collect(split: Split, envs: usize, steps: usize, seed: u64, preset: &str) -> Set {
    let scenes = split_scenes(preset, split).unwrap();
    let cfg = agent_sim_config(preset, 64, true).unwrap();
    let f = EpisodeFilter {
        min_geodesic_m: 4.0,
        min_ratio: 1.1,
    };
    let mut pool = EnvPool::new(&scenes, &cfg, envs, f, Seed(seed), 64).unwrap();
    let mut rng = Seed(seed).derive("x", 0).rng();
    let (mut r, mut a, mut e, mut l) = (vec![], vec![], vec![], vec![]);
    for _ in 0..steps {
        let (rgb, audio) = stack(&pool.observations(), 64);
        let ex = pool.expert_actions();
        r.push(rgb);
        a.push(audio);
        e.extend(ex.iter().map(|x| i64::from(x.id())));
        l.extend(pool.goal_labels().iter().flatten().copied());
        let acts: Vec<Action> = ex
            .iter()
            .map(|&x| {
                if rng.random::<f64>() < 0.7 && x != Action::Stop {
                    x
                } else {
                    [Action::Forward, Action::TurnLeft, Action::TurnRight][rng.random_range(0..3)]
                }
            })
            .collect();
        pool.step(&acts).unwrap();
    }
    let n = e.len() as i64;
    Set {
        rgb: Tensor::cat(&r, 0),
        audio: Tensor::cat(&a, 0),
        expert: Tensor::from_slice(&e),
        label: Tensor::from_slice(&l).view([n, 3]),
    }
}

fn main() {
    tch::set_num_threads(2);
    let preset = std::env::var("PRESET").unwrap_or("small".into());
    let t0 = std::time::Instant::now();
    let train = collect(Split::Train, 16, 1200, 1, &preset);
    let test = collect(Split::Test, 16, 300, 2, &preset);
    eprintln!(
        "collected {} + {} in {:.0}s",
        train.expert.size()[0],
        test.expert.size()[0],
        t0.elapsed().as_secs_f64()
    );
    let counts = test.expert.bincount(None::<Tensor>, 4);
    eprintln!(
        "test expert counts {:?}",
        Vec::<i64>::try_from(counts).unwrap()
    );
    let p = train
        .expert
        .bincount(None::<Tensor>, 4)
        .to_kind(Kind::Float)
        / train.expert.size()[0] as f64;
    let marg = -(p.index_select(0, &test.expert).log().mean(Kind::Float)).double_value(&[]);
    let lmean = train.label.mean_dim(0, true, Kind::Float);
    let aux_base = (&test.label - &lmean)
        .square()
        .mean_dim(0, false, Kind::Float);
    eprintln!(
        "marginal CE {marg:.3}  aux baseline per-dim {:?}",
        Vec::<f32>::try_from(aux_base).unwrap()
    );
    for mode in ["full", "audio", "vision"] {
        tch::manual_seed(0);
        let agent = Agent::new(
            AgentConfig {
                net: NetConfig::default(),
                sim_preset: "default".into(),
                data_preset: preset.clone(),
            },
            Device::Cpu,
        )
        .unwrap();
        let mut opt = AdamW::new(
            &agent.vs,
            AdamWConfig {
                eps: 1e-5,
                ..AdamWConfig::default()
            },
            |_| true,
        );
        let prep = |s: &Set, idx: &Tensor| {
            let mut rgb = s.rgb.index_select(0, idx);
            let mut au = s.audio.index_select(0, idx);
            if mode == "audio" {
                rgb = rgb.zeros_like();
            }
            if mode == "vision" {
                au = au.zeros_like();
            }
            (rgb, au)
        };
        let n = train.expert.size()[0];
        for epoch in 0..6 {
            let perm = Tensor::randperm(n, (Kind::Int64, Device::Cpu));
            let mut tot = 0.0;
            let mut c = 0.0;
            for b in 0..(n / 256) {
                let idx = perm.narrow(0, b * 256, 256);
                let (rgb, au) = prep(&train, &idx);
                let h = agent.net.initial_hidden(256, Device::Cpu);
                let out = agent.net.step(&rgb, &au, &h);
                let ce = out
                    .logits
                    .log_softmax(-1, Kind::Float)
                    .gather(-1, &train.expert.index_select(0, &idx).unsqueeze(-1), false)
                    .mean(Kind::Float)
                    .neg();
                let aux = (out.aux - train.label.index_select(0, &idx))
                    .square()
                    .mean(Kind::Float);
                let loss = &ce + &aux;
                opt.zero_grad();
                loss.backward();
                opt.clip_grad_norm(0.5);
                opt.step(5e-4);
                tot += ce.double_value(&[]);
                c += 1.0;
            }
            let m = test.expert.size()[0];
            let idx = Tensor::arange(m, (Kind::Int64, Device::Cpu));
            let (rgb, au) = prep(&test, &idx);
            let out = tch::no_grad(|| {
                agent
                    .net
                    .step(&rgb, &au, &agent.net.initial_hidden(m, Device::Cpu))
            });
            let lp = out.logits.log_softmax(-1, Kind::Float);
            let ce = lp
                .gather(-1, &test.expert.unsqueeze(-1), false)
                .mean(Kind::Float)
                .neg()
                .double_value(&[]);
            let acc = lp
                .argmax(-1, false)
                .eq_tensor(&test.expert)
                .to_kind(Kind::Float)
                .mean(Kind::Float)
                .double_value(&[]);
            let aux = (&out.aux - &test.label)
                .square()
                .mean_dim(0, false, Kind::Float);
            let sign = out
                .aux
                .select(1, 1)
                .sign()
                .eq_tensor(&test.label.select(1, 1).sign())
                .to_kind(Kind::Float)
                .mean(Kind::Float)
                .double_value(&[]);
            eprintln!(
                "{mode} epoch {epoch}: train CE {:.3} test CE {ce:.3} acc {acc:.3} aux {:?} bearing-sign {sign:.3} ({:.0}s)",
                tot / c,
                Vec::<f32>::try_from(aux).unwrap(),
                t0.elapsed().as_secs_f64()
            );
        }
    }
}
