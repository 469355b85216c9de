//! How `kiln` reports a failure: the text on stderr and the exit status.

use std::process::ExitCode;

use kiln::{Trap, WasmBacktrace};

/// How many of a backtrace's innermost frames are printed when it is long.
pub const BACKTRACE_HEAD: usize = 20;
/// How many of a backtrace's outermost frames are printed when it is long.
pub const BACKTRACE_TAIL: usize = 20;

/// The exit status after a trap: wasmtime's, that of a process ended by
/// `abort()` (128 + SIGABRT on Unix, 3 on Windows).
pub const TRAP_EXIT_STATUS: u8 = if cfg!(windows) { 3 } else { 134 };

/// The exit status for `error`: [`TRAP_EXIT_STATUS`] for a trap, 1 for
/// anything else.
pub fn status_of(error: &anyhow::Error) -> ExitCode {
    if error.downcast_ref::<Trap>().is_some() {
        ExitCode::from(TRAP_EXIT_STATUS)
    } else {
        ExitCode::FAILURE
    }
}

/// Prints `result`'s error, if any ([`error_report`]), and returns the
/// exit status ([`status_of`]).
pub fn exit_status(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprint!("{}", error_report(&e));
            status_of(&e)
        }
    }
}

/// The text printed for a failed run: the error's chain of messages on one
/// line, then for a trap its code and the wasm backtrace, innermost frame
/// first, named from the `name` section where the module has one. A
/// backtrace longer than [`BACKTRACE_HEAD`] + [`BACKTRACE_TAIL`] frames is
/// shortened in the middle, with a line saying how many frames are left
/// out; the frames keep their numbers.
pub fn error_report(error: &anyhow::Error) -> String {
    let backtrace = error.downcast_ref::<WasmBacktrace>();
    let backtrace_text = backtrace.map(|bt| bt.to_string());
    let messages: Vec<String> = error
        .chain()
        .map(|cause| cause.to_string())
        .filter(|message| Some(message) != backtrace_text.as_ref())
        .collect();
    let mut out = format!("error: {}\n", messages.join(": "));
    if let Some(trap) = error.downcast_ref::<Trap>() {
        out += &format!("trap code: {trap:?}\n");
    }
    if let Some(backtrace) = backtrace.filter(|bt| !bt.frames().is_empty()) {
        out += "wasm backtrace:\n";
        let frames = backtrace.frames();
        let shown = |i: usize| {
            frames.len() <= BACKTRACE_HEAD + BACKTRACE_TAIL
                || i < BACKTRACE_HEAD
                || i >= frames.len() - BACKTRACE_TAIL
        };
        for (i, frame) in frames.iter().enumerate() {
            if !shown(i) {
                if i == BACKTRACE_HEAD {
                    let omitted = frames.len() - BACKTRACE_HEAD - BACKTRACE_TAIL;
                    out += &format!("  ... {omitted} frames omitted ...\n");
                }
                continue;
            }
            let module = frame
                .module()
                .name()
                .map(|name| format!("{name}!"))
                .unwrap_or_default();
            let func = match frame.func_name() {
                Some(name) => name.to_string(),
                None => format!("<wasm function {}>", frame.func_index()),
            };
            let offset = frame.module_offset().unwrap_or(0);
            out += &format!("  {i:>3}: {offset:#8x} - {module}{func}\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_that_is_not_a_trap_has_one_line_and_status_1() {
        let error = anyhow::anyhow!("no such file").context("failed to read x.wasm");
        assert_eq!(
            error_report(&error),
            "error: failed to read x.wasm: no such file\n"
        );
        assert_eq!(status_of(&error), ExitCode::FAILURE);
    }

    #[test]
    fn a_trap_exits_like_an_abort() {
        let error = anyhow::Error::new(Trap::UnreachableCodeReached).context("failed to run `f`");
        assert_eq!(status_of(&error), ExitCode::from(134));
        assert!(error_report(&error).contains("trap code: UnreachableCodeReached\n"));
    }
}
