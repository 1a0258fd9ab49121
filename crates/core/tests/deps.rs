//! The core must stay pure Rust: no wasm-bindgen, web-sys, js-sys or tokio anywhere in its
//! dependency tree (normal and build dependencies).

use std::process::Command;

#[test]
fn dependency_tree_has_no_browser_or_runtime_crates() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "convene-core",
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("convene-core"), "{tree}");
    assert!(tree.contains("ovsp"), "{tree}");
    for line in tree.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        for banned in [
            "wasm-bindgen",
            "web-sys",
            "js-sys",
            "tokio",
            "getrandom",
            "rand",
        ] {
            assert!(
                name != banned && !name.starts_with(&format!("{banned}-")),
                "convene-core depends on {name}"
            );
        }
    }
}
