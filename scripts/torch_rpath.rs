// Build script shared (through `include!`) by the crates whose binaries and tests link libtorch.
// It embeds an rpath to libtorch's `lib/` and to the CUDA runtime wheel's `lib/` (which
// `libtorch_cpu.so` needs at load time), so the binaries run with no environment set.
// LIBTORCH comes from `.cargo/config.toml`; `scripts/setup-libtorch.sh` installs it.
fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let Ok(libtorch) = std::env::var("LIBTORCH") else {
        println!("cargo:warning=LIBTORCH is not set; run scripts/setup-libtorch.sh");
        return;
    };
    let torch = std::path::Path::new(&libtorch);
    let torch = torch.canonicalize().unwrap_or_else(|_| torch.to_path_buf());
    let mut dirs = vec![torch.join("lib")];
    if let Some(site) = torch.parent() {
        dirs.push(site.join("nvidia").join("cu13").join("lib"));
    }
    for d in dirs {
        if d.is_dir() {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", d.display());
        }
    }
}
