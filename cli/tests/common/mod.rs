//! Helpers shared by the process tests: run the built `kiln` binary,
//! bounded in time, and write temporary input files.
//!
//! Every process is run by [`run_bounded`]: its output is read on threads
//! (so a full pipe cannot deadlock the test) and it is killed, failing the
//! test, if it has not finished within [`TIMEOUT`].

use std::io::{Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The exit status after a trap: wasmtime's, that of a process ended by
/// `abort()` (128 + SIGABRT on Unix).
pub const TRAP_STATUS: Option<i32> = Some(if cfg!(windows) { 3 } else { 134 });

/// How long one `kiln` process may run before the test kills it and fails.
/// Every process here finishes in well under a second.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `kiln args` in the workspace root (where `examples/` is), with
/// stdin closed, bounded by [`TIMEOUT`].
pub fn kiln(args: &[&str]) -> Output {
    run_bounded(kiln_command(args), TIMEOUT)
}

/// The command `kiln args`, run in the workspace root, not yet started.
pub fn kiln_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiln"));
    cmd.args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    cmd
}

/// Runs `cmd` to completion with stdin closed and stdout and stderr
/// captured, like `Command::output`, but kills it and panics (naming the
/// command and showing what it printed so far) if it runs longer than
/// `timeout`.
pub fn run_bounded(mut cmd: Command, timeout: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let deadline = Instant::now() + timeout;
    let Some(status) = wait_until(&mut child, deadline) else {
        let pid = child.id();
        let _ = child.kill();
        let _ = child.wait();
        // The pipes close with the process; give the readers a moment.
        let grace = Instant::now() + Duration::from_secs(5);
        let text = |reader| {
            String::from_utf8_lossy(&join_until(reader, grace).unwrap_or_default()).into_owned()
        };
        panic!(
            "{cmd:?} did not finish within {timeout:?}; killed it (pid {pid})\n\
             stdout so far:\n{}\nstderr so far:\n{}",
            text(stdout),
            text(stderr)
        );
    };
    // The process has exited, so its pipes are closed (kiln starts no
    // processes of its own that could hold them open); still, bounded.
    let grace = Instant::now() + Duration::from_secs(5);
    let (Some(stdout), Some(stderr)) = (join_until(stdout, grace), join_until(stderr, grace))
    else {
        panic!("{cmd:?} exited ({status}) but its output pipes stayed open");
    };
    Output {
        status,
        stdout,
        stderr,
    }
}

/// Reads `pipe` to its end on a thread.
pub fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// The child's exit status, or `None` if it is still running at `deadline`.
pub fn wait_until(child: &mut Child, deadline: Instant) -> Option<std::process::ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The reader's bytes, or `None` if it has not finished by `deadline`.
pub fn join_until(reader: JoinHandle<Vec<u8>>, deadline: Instant) -> Option<Vec<u8>> {
    while !reader.is_finished() {
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Some(reader.join().expect("the pipe reader"))
}

/// What the process wrote on stdout, as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What the process wrote on stderr, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes `contents` to a file `name` in a directory of this test process
/// and returns its path.
pub fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(contents.as_bytes())
        .unwrap();
    path
}
