//! The real program of the program section: a WASI command built with
//! wasi-libc, from a package registry, with a workload that keeps it busy
//! for about a second under wasmtime, nearly all of it in one call
//! (`_start`).
//!
//! `bench/fetch-modules.sh` puts the program into `bench/programs/` (not
//! committed) and writes `programs/sources.tsv`; the workload is committed
//! next to it.

use std::path::{Path, PathBuf};

/// The program's file in the programs directory.
pub const PROGRAM: &str = "boolector.wasm";

/// The workload, in the same directory, which the program sees as `/`.
pub const WORKLOAD: &str = "factor28.smt2";

/// What the workload is, for the report.
pub const WORKLOAD_TEXT: &str = "an SMT-LIB 2 bit-vector problem: is the largest prime below \
     2^28 (268435399) the product of two 64-bit numbers that are both above 1 and below 2^32? \
     Boolector bit-blasts the 64-bit multiplication and its SAT solver proves that it is not \
     (`unsat`)";

/// What the program must print on stdout (last line) for the workload.
pub const EXPECTED_STDOUT: &str = "unsat";

/// The real program, found or not.
#[derive(Clone, Debug)]
pub struct ProgramInfo {
    /// The file name.
    pub file: String,
    /// The module's path.
    pub path: PathBuf,
    /// The directory preopened as `/`.
    pub dir: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Its `argv`, program name first.
    pub args: Vec<String>,
    /// Where it came from (`sources.tsv`), if known.
    pub source: Option<String>,
    /// The last line of stdout every engine must print.
    pub expected_stdout: &'static str,
    /// Why it was not measured, if it was not.
    pub skipped: Option<String>,
}

/// Looks for the program and its workload in `dir`.
pub fn find(dir: &Path) -> ProgramInfo {
    let path = dir.join(PROGRAM);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let skipped = if size == 0 {
        Some(format!(
            "{} not found: run bench/fetch-modules.sh",
            path.display()
        ))
    } else if !dir.join(WORKLOAD).is_file() {
        Some(format!("{} not found", dir.join(WORKLOAD).display()))
    } else {
        None
    };
    let source = std::fs::read_to_string(dir.join("sources.tsv"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| {
            let mut fields = line.split('\t');
            (fields.next()? == PROGRAM).then(|| {
                fields
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        });
    ProgramInfo {
        file: PROGRAM.to_string(),
        path,
        dir: dir.to_path_buf(),
        size,
        args: vec!["boolector".to_string(), format!("/{WORKLOAD}")],
        source,
        expected_stdout: EXPECTED_STDOUT,
        skipped,
    }
}
