include!("../../scripts/torch_rpath.rs");
