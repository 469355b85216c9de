//! WASI preview 1, end to end: the C programs in `wasi/tests/programs/`
//! are compiled here with clang for `wasm32-wasi` (Debian's clang, lld,
//! wasi-libc and libclang-rt-dev-wasm32) and run under the `kiln` binary.
//! Where a program is host-portable it is also compiled natively with the
//! system's `cc` and run the same way, and stdout and the exit status must
//! match; the others are checked against the expected text.
//!
//! A missing toolchain fails every test here with the install command; it
//! never lets them pass silently. `CLANG` (default `clang`) and
//! `WASI_SYSROOT` (default `/usr`) override where the toolchain is.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TOOLCHAIN_HINT: &str = "the WASI tests compile C programs with clang for wasm32-wasi; \
     install the toolchain with `apt-get install -y clang lld wasi-libc libclang-rt-dev-wasm32` \
     (or set CLANG / WASI_SYSROOT)";

fn programs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wasi/tests/programs")
}

fn build_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasi-programs");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh, empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("wasi-scratch")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs a compiler, failing the test with its output (and the toolchain
/// hint) if it cannot be started or fails.
fn compile(mut cmd: Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run the compiler for {what} ({e}): {TOOLCHAIN_HINT}"));
    assert!(
        out.status.success(),
        "compiling {what} failed:\n{}\n{TOOLCHAIN_HINT}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds `source` for wasm32-wasi (once per test run) and returns the
/// `.wasm` path.
fn wasm(source: &Path, name: &str) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let out = build_dir().join(format!("{name}.wasm"));
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".to_string());
    let sysroot = std::env::var("WASI_SYSROOT").unwrap_or_else(|_| "/usr".to_string());
    let mut cmd = Command::new(clang);
    cmd.arg("--target=wasm32-wasi")
        .arg(format!("--sysroot={sysroot}"))
        .arg("-O1")
        .arg("-o")
        .arg(&out)
        .arg(source);
    compile(cmd, &format!("{} for wasm32-wasi", source.display()));
    built.insert(name.to_string(), out.clone());
    out
}

/// Builds `source` natively with `cc` (once per test run).
fn native(source: &Path, name: &str) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let out = build_dir().join(format!("{name}.native"));
    let mut cmd = Command::new("cc");
    cmd.arg("-O1").arg("-o").arg(&out).arg(source);
    compile(cmd, &format!("{} natively", source.display()));
    built.insert(name.to_string(), out.clone());
    out
}

/// A test program's wasm and (for host-portable ones) native builds.
fn program(name: &str) -> PathBuf {
    wasm(&programs_dir().join(format!("{name}.c")), name)
}

fn native_program(name: &str) -> PathBuf {
    native(&programs_dir().join(format!("{name}.c")), name)
}

/// What a process did.
#[derive(Debug)]
struct Outcome {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

/// Runs `cmd` with `stdin` as its standard input (closed after), killing
/// it after a minute.
fn run(mut cmd: Command, stdin: &[u8]) -> Outcome {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start the process");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within a minute; killed it");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    writer.join().unwrap();
    Outcome {
        stdout: String::from_utf8_lossy(&reader.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned(),
        code: status.code(),
    }
}

/// `kiln run [options] program args` with an empty environment.
fn kiln_run(options: &[&str], wasm: &Path, args: &[&str], stdin: &[u8]) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiln"));
    cmd.arg("run")
        .args(options)
        .arg(wasm)
        .args(args)
        .env_clear();
    run(cmd, stdin)
}

/// The native build with exactly the environment `env`.
fn native_run(
    exe: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    cwd: &Path,
    stdin: &[u8],
) -> Outcome {
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .env_clear()
        .envs(env.iter().copied())
        .current_dir(cwd);
    run(cmd, stdin)
}

/// Runs a host-portable program both ways and checks stdout and the exit
/// status agree; returns the kiln outcome for further checks.
fn same_as_native(name: &str, args: &[&str], stdin: &[u8]) -> Outcome {
    let kiln = kiln_run(&[], &program(name), args, stdin);
    let cwd = scratch(&format!("{name}-native"));
    let native = native_run(&native_program(name), args, &[], &cwd, stdin);
    assert_eq!(
        kiln.stdout, native.stdout,
        "stdout differs; kiln stderr: {}",
        kiln.stderr
    );
    assert_eq!(
        kiln.code, native.code,
        "exit status differs; kiln stderr: {}",
        kiln.stderr
    );
    kiln
}

#[test]
fn hello_world_matches_native() {
    let out = same_as_native("hello", &[], b"");
    assert_eq!(out.stdout, "Hello, world!\nformatted: 42 2.500\n");
    assert_eq!(out.stderr, "this goes to stderr\n");
    assert_eq!(out.code, Some(0));
}

#[test]
fn arguments_and_environment_match_native() {
    let args = ["one", "two words", "--dash", "ünïcode", ""];
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiln"));
    cmd.env_clear()
        .env("FROM_HOST", "inherited value")
        .env("NOT_PASSED", "must not reach the guest")
        .args([
            "run",
            "--env",
            "GREETING=hello there",
            "--env",
            "EMPTY=",
            "--env",
            "FROM_HOST",
            "--env",
            "UNSET_ON_HOST",
        ])
        .arg(program("args_env"))
        .args(args);
    let kiln = run(cmd, b"");
    let cwd = scratch("args-native");
    let env = [
        ("GREETING", "hello there"),
        ("EMPTY", ""),
        ("FROM_HOST", "inherited value"),
    ];
    let native = native_run(&native_program("args_env"), &args, &env, &cwd, b"");
    assert_eq!(kiln.stdout, native.stdout, "{}", kiln.stderr);
    assert_eq!(kiln.code, Some(0));
    assert!(kiln.stdout.contains("arg[3]=--dash\n"), "{}", kiln.stdout);
    assert!(
        kiln.stdout.contains("environ has 3 entries\n"),
        "{}",
        kiln.stdout
    );
    assert!(!kiln.stdout.contains("NOT_PASSED"));
}

#[test]
fn exit_codes_match_native() {
    for (how, code) in [
        ("exit", "0"),
        ("exit", "3"),
        ("exit", "255"),
        ("exit", "261"),
        ("return", "42"),
        ("return", "0"),
        ("quick", "7"),
    ] {
        let out = same_as_native("exit_code", &[how, code], b"");
        assert_eq!(out.stdout, format!("leaving with {code} via {how}\n"));
    }
    let out = same_as_native("exit_code", &[], b"");
    assert_eq!(out.code, Some(2));
}

#[test]
fn files_in_a_preopened_directory_match_native() {
    let guest_dir = scratch("files-wasm");
    let native_dir = scratch("files-native");
    let dir_option = format!("{}::.", guest_dir.display());
    let kiln = kiln_run(&["--dir", &dir_option], &program("files"), &[], b"");
    let native = native_run(&native_program("files"), &[], &[], &native_dir, b"");
    assert_eq!(kiln.stdout, native.stdout, "{}", kiln.stderr);
    assert_eq!(kiln.code, Some(0), "{}", kiln.stderr);
    assert!(
        kiln.stdout.contains(
            "listing .: 3 entries\n  moved.txt (file)\n  renamed.txt (file)\n  sub (dir)\n"
        )
    );
    // The guest's work is on the host, in the directory it was given.
    assert_eq!(
        std::fs::read_to_string(guest_dir.join("renamed.txt")).unwrap(),
        "first line"
    );
    let names: Vec<_> = std::fs::read_dir(&guest_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["renamed.txt"]);
}

#[test]
fn a_directory_given_under_another_name_is_found_by_that_name() {
    // `--dir HOST::GUEST`: the program's `.` is not preopened, so its
    // relative paths find nothing; `--dir HOST` alone names it as written.
    let guest_dir = scratch("files-renamed");
    let option = format!("{}::/elsewhere", guest_dir.display());
    let out = kiln_run(&["--dir", &option], &program("files"), &[], b"");
    assert_eq!(out.code, Some(1));
    assert!(
        out.stdout
            .starts_with("FAILED: fopen notes.txt for writing"),
        "{}",
        out.stdout
    );
    assert_eq!(std::fs::read_dir(&guest_dir).unwrap().count(), 0);
}

/// The controls of `sandbox.c`, which must succeed (each prints the file
/// it opened first).
const SANDBOX_CONTROLS: &[&str] = &[
    "control: open inside.txt",
    "control: open sub/../inside.txt",
];

/// Every escape `sandbox.c` attempts, in order.
const SANDBOX_ESCAPES: &[&str] = &[
    "open ../secret.txt",
    "open sub/../../secret.txt",
    "open /etc/passwd",
    "open absolute secret path",
    "open link_rel (-> ../secret.txt)",
    "open link_abs (-> absolute secret)",
    "open link_dir/secret.txt (link_dir -> ..)",
    "open directory ..",
    "open directory link_dir",
    "open ../../secret.txt from sub",
    "stat ../secret.txt",
    "stat link_rel following it",
    "stat link_abs following it",
    "mkdir ../escaped_dir",
    "mkdir link_dir/escaped_dir",
    "rename inside.txt to ../escaped.txt",
    "rename ../secret.txt to stolen.txt",
    "unlink ../secret.txt",
    "hard link ../secret.txt as stolen.txt",
    "symlink to /etc/passwd",
    "create ../created.txt",
    "libc fopen /sandbox/../secret.txt",
    "libc fopen /sandbox/link_rel",
];

/// The errnos the WASI contract allows for refusing an escape.
const REFUSALS: &[&str] = &["ENOTCAPABLE", "EPERM"];

/// Checks `sandbox.c`'s output line by line: both controls succeed, then
/// every escape, in order, is refused with one of [`REFUSALS`] (a success,
/// which would also print an "(opened ...)" line, or any other errno is
/// an error), then the count of refusals. `Err` says which line is wrong.
fn check_sandbox_output(stdout: &str) -> Result<(), String> {
    let mut lines = stdout.lines();
    let mut next = |what: &str| {
        lines
            .next()
            .ok_or_else(|| format!("the output ends before {what}"))
    };
    for control in SANDBOX_CONTROLS {
        let expected = [
            "    (opened; contents: inside)".to_string(),
            format!("{control}: SUCCESS"),
        ];
        for line in expected {
            let got = next(control)?;
            if got != line {
                return Err(format!("got {got:?}, want {line:?}"));
            }
        }
    }
    for escape in SANDBOX_ESCAPES {
        let got = next(escape)?;
        let refused = got
            .strip_prefix(escape)
            .and_then(|rest| rest.strip_prefix(": "))
            .is_some_and(|errno| REFUSALS.contains(&errno));
        if !refused {
            return Err(format!(
                "got {got:?}, want \"{escape}: \" and one of {REFUSALS:?}"
            ));
        }
    }
    let n = SANDBOX_ESCAPES.len();
    let summary = format!("{n} of {n} escapes refused");
    let got = next("the summary")?;
    if got != summary {
        return Err(format!("got {got:?}, want {summary:?}"));
    }
    match lines.next() {
        Some(extra) => Err(format!("unexpected line after the summary: {extra:?}")),
        None => Ok(()),
    }
}

#[test]
fn the_sandbox_check_accepts_only_enotcapable_or_eperm() {
    let output = |errno_of: &dyn Fn(usize) -> &'static str| {
        let mut out = String::new();
        for control in SANDBOX_CONTROLS {
            out += &format!("    (opened; contents: inside)\n{control}: SUCCESS\n");
        }
        for (i, escape) in SANDBOX_ESCAPES.iter().enumerate() {
            out += &format!("{escape}: {}\n", errno_of(i));
        }
        let n = SANDBOX_ESCAPES.len();
        out + &format!("{n} of {n} escapes refused\n")
    };
    assert_eq!(check_sandbox_output(&output(&|_| "ENOTCAPABLE")), Ok(()));
    assert_eq!(check_sandbox_output(&output(&|_| "EPERM")), Ok(()));
    let mixed = |i: usize| {
        if i.is_multiple_of(2) {
            "EPERM"
        } else {
            "ENOTCAPABLE"
        }
    };
    assert_eq!(check_sandbox_output(&output(&mixed)), Ok(()));
    // Any one escape succeeding or failing otherwise fails the check.
    for bad in [
        "SUCCESS",
        "ENOENT",
        "errno 2",
        "ENOTCAPABLE (NOT REFUSED)",
        "",
    ] {
        for at in [0, SANDBOX_ESCAPES.len() - 1] {
            let text = output(&|i| if i == at { bad } else { "ENOTCAPABLE" });
            assert!(check_sandbox_output(&text).is_err(), "{bad:?} at {at}");
        }
    }
    // So do a failed control, a missing or extra line, a wrong count.
    let good = output(&|_| "EPERM");
    let broken = [
        good.replacen("inside.txt: SUCCESS", "inside.txt: ENOENT", 1),
        good.replacen("open /etc/passwd: EPERM\n", "", 1),
        good.replacen(
            "open /etc/passwd: EPERM\n",
            "    (opened; contents: root)\nopen /etc/passwd: EPERM\n",
            1,
        ),
        good.replace(" of ", " of 1"),
        good.clone() + "more\n",
    ];
    for text in broken {
        assert!(check_sandbox_output(&text).is_err(), "{text}");
    }
}

#[test]
fn every_sandbox_escape_is_refused() {
    let root = scratch("sandbox");
    let outer = std::fs::canonicalize(&root).unwrap();
    let secret = outer.join("secret.txt");
    std::fs::write(&secret, "TOP SECRET\n").unwrap();
    let boxed = outer.join("box");
    std::fs::create_dir_all(boxed.join("sub")).unwrap();
    std::fs::write(boxed.join("inside.txt"), "inside\n").unwrap();
    std::os::unix::fs::symlink("../secret.txt", boxed.join("link_rel")).unwrap();
    std::os::unix::fs::symlink(&secret, boxed.join("link_abs")).unwrap();
    std::os::unix::fs::symlink("..", boxed.join("link_dir")).unwrap();

    let option = format!("{}::/sandbox", boxed.display());
    let out = kiln_run(
        &["--dir", &option],
        &program("sandbox"),
        &[secret.to_str().unwrap()],
        b"",
    );
    assert!(
        !out.stdout.contains("TOP SECRET"),
        "the secret leaked:\n{}",
        out.stdout
    );
    if let Err(wrong) = check_sandbox_output(&out.stdout) {
        panic!("{wrong}; the whole output:\n{}{}", out.stdout, out.stderr);
    }
    assert_eq!(out.code, Some(0), "{}", out.stderr);

    // Nothing outside changed, nothing was moved out or in.
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "TOP SECRET\n");
    let mut outside: Vec<_> = std::fs::read_dir(&outer)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    outside.sort();
    assert_eq!(outside, ["box", "secret.txt"]);
    let mut inside: Vec<_> = std::fs::read_dir(&boxed)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    inside.sort();
    assert_eq!(
        inside,
        ["inside.txt", "link_abs", "link_dir", "link_rel", "sub"]
    );
}

#[test]
fn clocks_match_native() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let out = same_as_native("clocks", &[&now], b"");
    assert!(!out.stdout.contains(": no"), "{}", out.stdout);
}

#[test]
fn random_matches_native() {
    let out = same_as_native("random", &[], b"");
    assert!(!out.stdout.contains(": no"), "{}", out.stdout);
    assert!(!out.stdout.contains("failed"), "{}", out.stdout);
}

#[test]
fn poll_oneoff_sleeps_match_native() {
    let started = Instant::now();
    let out = same_as_native("sleep", &[], b"");
    assert!(!out.stdout.contains(": no"), "{}", out.stdout);
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[test]
fn stdin_from_a_pipe_matches_native() {
    let input = b"first line\nsecond, longer line\n\nlast line without a newline";
    let out = same_as_native("stdin", &[], input);
    assert!(
        out.stdout.starts_with("poll: 1, ready: yes\nFIRST LINE\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with("4 lines, 59 bytes, eof: yes\n"),
        "{}",
        out.stdout
    );

    // An empty stdin is end of file at once.
    let out = same_as_native("stdin", &[], b"");
    assert!(
        out.stdout.ends_with("0 lines, 0 bytes, eof: yes\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_trap_prints_its_code_and_a_named_backtrace() {
    let out = kiln_run(&[], &program("trap"), &[], b"");
    // A trap exits as wasmtime's does: with the status of an abort.
    let trap_status = if cfg!(windows) { 3 } else { 134 };
    assert_eq!(out.code, Some(trap_status), "{}", out.stderr);
    assert_eq!(out.stdout, "before the trap\n");
    let err = &out.stderr;
    assert!(
        err.contains("wasm `unreachable` instruction executed"),
        "{err}"
    );
    assert!(err.contains("trap code: UnreachableCodeReached"), "{err}");
    let crash = err.find("crash_here").expect("backtrace names crash_here");
    let middle = err.find("middle").expect("backtrace names middle");
    let main = err.find("main").expect("backtrace names main");
    assert!(
        crash < middle && middle < main,
        "innermost frame first: {err}"
    );
}

#[test]
fn the_readme_example_lists_the_current_directory() {
    let hello = wasm(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hello.c"),
        "readme-hello",
    );
    let dir = scratch("readme");
    std::fs::write(dir.join("a.txt"), "a").unwrap();
    std::fs::create_dir(dir.join("b")).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiln"));
    cmd.args(["run", "--dir", "."])
        .arg(&hello)
        .current_dir(&dir);
    let out = run(cmd, b"");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "Hello from WebAssembly!\nThe current directory has 2 entries:\n  a.txt\n  b/\n"
    );
}

#[test]
fn a_missing_toolchain_fails_with_the_install_command() {
    let result = std::panic::catch_unwind(|| {
        compile(Command::new("/nonexistent/clang"), "a program");
    });
    let payload = result.expect_err("a missing compiler must fail the test");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("apt-get install -y clang lld wasi-libc libclang-rt-dev-wasm32"),
        "{message}"
    );
}
