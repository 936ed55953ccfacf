use crate::grid;
use crate::scenes::two_rooms;
use avwm_core::{Action, Pose, RgbImage};
use avwm_geom::Vec2;

fn pixel(img: &RgbImage, p: Vec2, lo: Vec2, hi_y: f32, s: f32) -> [u8; 3] {
    let x = ((p.x - lo.x) * s) as usize;
    let y = ((hi_y - p.y) * s) as usize;
    let o = (y * img.width as usize + x) * 3;
    [img.data[o], img.data[o + 1], img.data[o + 2]]
}

#[test]
fn map_shows_walls_free_space_source_and_trajectory_north_up() {
    let scene = two_rooms(Vec2::ZERO, true);
    let g = grid(&scene);
    let mut pose = Pose::new(2.0, 1.0, std::f32::consts::FRAC_PI_2);
    let mut traj = vec![pose];
    for _ in 0..20 {
        pose = g.apply_action(pose, Action::Forward).pose;
        traj.push(pose);
    }
    let s = 20.0;
    let img = g.draw_map(&scene, &traj, s);
    let (lo, hi) = g.bounds();
    assert_eq!(img.width, ((hi.x - lo.x) * s).ceil() as u32);
    assert_eq!(img.height, ((hi.y - lo.y) * s).ceil() as u32);
    assert_eq!(img.data.len(), (img.width * img.height * 3) as usize);
    let px = |p: Vec2| pixel(&img, p, lo, hi.y, s);
    let luma = |c: [u8; 3]| c.iter().map(|&v| u32::from(v)).sum::<u32>() / 3;
    assert!(luma(px(Vec2::new(5.0, 2.0))) < 80, "divider wall is dark");
    assert!(luma(px(Vec2::new(3.5, 4.0))) > 220, "free space is light");
    let red = px(g.source_xy());
    assert!(
        red[0] > 200 && red[1] < 60 && red[2] < 60,
        "source is red: {red:?}"
    );
    let start = px(Vec2::new(2.0, 1.0));
    assert!(start[1] > 150 && start[0] < 60, "start is green: {start:?}");
    // North up: the trajectory heads +y, so its end is drawn above (smaller row than) the start.
    let end = px(pose.xy());
    assert!(
        end[2] > 100 && end[0] < 60 && end[1] < 60,
        "end marker: {end:?}"
    );
    let row = |p: Vec2| ((hi.y - p.y) * s) as i64;
    assert!(row(pose.xy()) < row(Vec2::new(2.0, 1.0)));
    // The door bar is orange.
    let door = px(Vec2::new(5.0, 5.0));
    assert!(door[0] > 180 && door[2] < 80, "door: {door:?}");

    let bytes = avwm_core::encode_png(&img).unwrap();
    let dir = option_env!("CARGO_TARGET_TMPDIR")
        .map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    std::fs::write(dir.join("avwm-nav-two-rooms.png"), &bytes).expect("write png");
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("decodes");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("frame");
    assert_eq!((info.width, info.height), (img.width, img.height));
    assert_eq!(&buf[..info.buffer_size()], &img.data[..]);
}

#[test]
fn paths_are_drawn_each_in_its_colour_to_its_end() {
    let scene = two_rooms(Vec2::ZERO, true);
    let g = grid(&scene);
    let walk = |yaw: f32, n: usize| {
        let mut pose = Pose::new(2.0, 1.0, yaw);
        let mut v = vec![pose];
        for _ in 0..n {
            pose = g.apply_action(pose, Action::Forward).pose;
            v.push(pose);
        }
        v
    };
    let (north, east) = (walk(std::f32::consts::FRAC_PI_2, 20), walk(0.0, 12));
    let (c1, c2) = ([230, 120, 0], [0, 90, 230]);
    let s = 20.0;
    let img = g.draw_map_paths(&scene, &[(&north, c1), (&east, c2)], s);
    let (lo, hi) = g.bounds();
    let px = |p: Vec2| pixel(&img, p, lo, hi.y, s);
    assert_eq!(px(north.last().unwrap().xy()), c1);
    assert_eq!(px(east.last().unwrap().xy()), c2);
    assert_eq!(px(north[10].xy()), c1, "the polyline between");
    let start = px(Vec2::new(2.0, 1.0));
    assert!(start[1] > 150 && start[0] < 60, "start is green: {start:?}");
}
