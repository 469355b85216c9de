//! `kiln run` links the older `wasi_unstable` module (WASI snapshot 0)
//! beside preview 1, as wasmtime's CLI does: `wasi/tests/programs/unstable.wat`
//! checks snapshot 0's `whence` numbers and `filestat` and clock
//! subscription layouts and exits with the number of the first check that
//! fails.

#[allow(dead_code)] // each test binary uses part of the shared helpers
mod common;

use std::path::{Path, PathBuf};

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
    let dir_arg = format!("{}::.", dir.display());
    let mut cmd = common::kiln_command(&["run", "--dir", &dir_arg, program().to_str().unwrap()]);
    cmd.env_clear();
    let out = common::run_bounded(cmd, common::TIMEOUT);
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

/// `-S preview0=n` leaves `wasi_unstable` out: the same program no longer
/// links, and the error names the missing import.
#[test]
fn preview0_off_leaves_wasi_unstable_unlinked() {
    let dir = scratch("off");
    let dir_arg = format!("{}::.", dir.display());
    let out = common::kiln(&[
        "run",
        "-S",
        "preview0=n",
        "--dir",
        &dir_arg,
        program().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("wasi_unstable"), "stderr: {stderr}");
    assert!(out.stdout.is_empty());
}
