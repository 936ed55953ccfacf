//! The hang oracle: CPU time over 1 s or wall-clock time over 3 s is a hang; a loader that sleeps
//! 1.1 s is not (on shared cores a wall-clock second is no measure of work). Its own test binary,
//! so that no other test's threads add to the process's CPU time.

use avwm_fuzz::engine::{Fuzzer, HANG_S, HANG_WALL_S, Target};
use std::time::Duration;

#[test]
fn work_over_a_cpu_second_or_blocking_over_the_wall_limit_is_a_hang_sleeping_a_second_is_not() {
    let t = Target {
        name: "slow",
        text: false,
        seeds: vec![vec![1]],
        run: Box::new(|b: &[u8]| {
            match b {
                // Work: 1.1 s of CPU, however long the machine makes it take.
                [1] => {
                    let c = cpu_time::ProcessTime::now();
                    let mut x = 0u64;
                    while c.elapsed() < Duration::from_millis(1100) {
                        x = std::hint::black_box(x.wrapping_add(1));
                    }
                }
                // Blocked: asleep past the wall-clock limit.
                [2] => std::thread::sleep(Duration::from_secs_f64(HANG_WALL_S + 0.2)),
                // Asleep for 1.1 s: neither limit.
                _ => std::thread::sleep(Duration::from_millis(1100)),
            }
            Ok(())
        }),
    };
    let mut f = Fuzzer::new(t, 1, 0);
    for (i, b) in [[1u8], [3], [2]].into_iter().enumerate() {
        let (_, took) = f.execute(i as u64, b.to_vec());
        assert_eq!(took.is_hang(), b != [3], "{b:?}: {took:?}");
    }
    assert_eq!(f.report.hangs.len(), 2, "{:?}", f.report.hangs);
    assert!(f.report.slowest_cpu_s > HANG_S && f.report.slowest_s > HANG_WALL_S);
    assert_eq!(f.report.panics.len(), 0);
}
