//! `kiln run` links the older `wasi_unstable` module (WASI snapshot 0)
//! beside preview 1, as wasmtime's CLI does: `wasi/tests/programs/unstable.wat`
//! checks snapshot 0's `whence` numbers and `filestat` and clock
//! subscription layouts and exits with the number of the first check that
//! fails.

use std::path::{Path, PathBuf};
use std::process::Command;

fn program() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wasi/tests/programs/unstable.wat")
}

/// A fresh, empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("wasi-unstable")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn kiln_run_links_wasi_unstable() {
    let dir = scratch("run");
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .arg("run")
        .arg("--dir")
        .arg(format!("{}::.", dir.display()))
        .arg(program())
        .env_clear()
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello from wasi_unstable\nchecks passed\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("data.txt")).unwrap(),
        "0123456789"
    );
}
