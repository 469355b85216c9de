//! Results of running scripts, and the report printed from them.
//!
//! The report has a fixed shape because tools read it: one
//! `<file>: N passed, N failed` line per script, then the skipped directives
//! (each by name and reason), then the grand total alone on the last line as
//! `N passed, N failed`. CI greps that last line, so nothing else ever follows
//! it. `kiln wast` and `kiln-spec-tests` both print through this module so
//! that their output cannot drift apart.

use std::fmt;
use std::io::{self, Write};

/// An entry of a skip list: a directive the runner must not execute, with
/// the reason why.
///
/// Skips exist so that a known, explained gap can be recorded without
/// hiding it: every skipped directive is printed by name with its reason in
/// the report. Kiln's own list (`kiln_spec_tests::SKIPS`) is meant to stay
/// empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Skip {
    /// The script's name as given to the runner (e.g. `wasm-v2/table.wast`).
    pub file: &'static str,
    /// The 1-based line on which the skipped directive starts.
    pub line: usize,
    /// Why the directive is skipped.
    pub reason: &'static str,
}

/// Where a directive sits in its script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The script's name as given to the runner.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// One directive that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Where the directive is.
    pub location: Location,
    /// The directive's keyword (`assert_return`, `module`, ...).
    pub directive: &'static str,
    /// What went wrong, including the error's context chain if there was one.
    pub message: String,
    /// For a module that failed to compile or instantiate: how many later
    /// directives failed only because they needed it. They count as
    /// failures but get no entry of their own.
    pub dependents: usize,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.location, self.directive, self.message)?;
        match self.dependents {
            0 => Ok(()),
            1 => write!(
                f,
                " [1 later directive needed this module: counted as failed]"
            ),
            n => write!(
                f,
                " [{n} later directives needed this module: counted as failed]"
            ),
        }
    }
}

/// One directive that was not executed because a [`Skip`] named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Where the directive is.
    pub location: Location,
    /// The directive's keyword.
    pub directive: &'static str,
    /// The reason given by the skip list.
    pub reason: &'static str,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.location, self.directive, self.reason)
    }
}

/// The outcome of running one script: every directive counts once, as a
/// pass or a failure (or, if a skip names it, as neither but listed). A
/// failure has an entry in `failures` unless it only needed a module that
/// had failed: then it is added to that module's entry
/// ([`Failure::dependents`]), so `failed` is the number of entries plus
/// their dependents.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileResult {
    /// The script's name as given to the runner.
    pub file: String,
    /// Directives that behaved as the script expects.
    pub passed: usize,
    /// Directives that did not: the entries of `failures` and their
    /// dependents.
    pub failed: usize,
    /// The failed directives, in script order.
    pub failures: Vec<Failure>,
    /// The skipped directives, in script order.
    pub skipped: Vec<Skipped>,
    /// Functions of the script's modules compiled to native code (with
    /// `Strategy::Cranelift`).
    pub native_functions: usize,
    /// Functions the native tier left to the interpreter, one line each
    /// (`module line:col: function N: reason`).
    pub native_fallbacks: Vec<String>,
    /// With tiered execution: running calls moved into native code at a
    /// loop header.
    pub osr_entries: u64,
}

impl FileResult {
    /// An empty result for the script `file`.
    pub fn new(file: impl Into<String>) -> FileResult {
        FileResult {
            file: file.into(),
            ..FileResult::default()
        }
    }

    /// A result holding a single failure for a script that could not be run
    /// at all (unreadable, or not parseable as a script).
    pub fn file_error(
        file: impl Into<String>,
        line: usize,
        col: usize,
        message: String,
    ) -> FileResult {
        let mut result = FileResult::new(file);
        let location = result.location(line, col);
        result.fail(location, "script", message);
        result
    }

    /// A location in this result's script.
    pub fn location(&self, line: usize, col: usize) -> Location {
        Location {
            file: self.file.clone(),
            line,
            col,
        }
    }

    /// Records a passing directive.
    pub fn pass(&mut self) {
        self.passed += 1;
    }

    /// Records a failing directive. A multi-line message (a trap with its
    /// backtrace, say) is folded onto one line so that the report keeps one
    /// line per failure.
    pub fn fail(&mut self, location: Location, directive: &'static str, message: String) {
        self.failed += 1;
        let message = if message.contains('\n') {
            message
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            message
        };
        self.failures.push(Failure {
            location,
            directive,
            message,
            dependents: 0,
        });
    }

    /// Records a failing directive that failed only because it needed the
    /// module whose directive is at `module_line:module_col` and failed: it
    /// counts on that failure's entry instead of getting its own. If there
    /// is no such entry, the directive is recorded as [`FileResult::fail`]
    /// does.
    pub fn fail_dependent(
        &mut self,
        (module_line, module_col): (usize, usize),
        location: Location,
        directive: &'static str,
        message: String,
    ) {
        let module = self
            .failures
            .iter_mut()
            .find(|f| f.location.line == module_line && f.location.col == module_col);
        match module {
            Some(module) => {
                module.dependents += 1;
                self.failed += 1;
            }
            None => self.fail(location, directive, message),
        }
    }

    /// Records a skipped directive.
    pub fn skip(&mut self, location: Location, directive: &'static str, reason: &'static str) {
        self.skipped.push(Skipped {
            location,
            directive,
            reason,
        });
    }
}

/// Sums of passes and failures over many scripts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Passed directives.
    pub passed: usize,
    /// Failed directives.
    pub failed: usize,
    /// Skipped directives.
    pub skipped: usize,
    /// Functions compiled to native code.
    pub native_functions: usize,
    /// Functions the native tier left to the interpreter.
    pub native_fallbacks: usize,
    /// Calls moved into native code at a loop header.
    pub osr_entries: u64,
}

impl Totals {
    /// Adds up `results`.
    pub fn of(results: &[FileResult]) -> Totals {
        results.iter().fold(Totals::default(), |t, r| Totals {
            passed: t.passed + r.passed,
            failed: t.failed + r.failed,
            skipped: t.skipped + r.skipped.len(),
            native_functions: t.native_functions + r.native_functions,
            native_fallbacks: t.native_fallbacks + r.native_fallbacks.len(),
            osr_entries: t.osr_entries + r.osr_entries,
        })
    }
}

/// Writes every failure of `results`, one per line, as
/// `file:line:col: directive: message`.
pub fn write_failures(results: &[FileResult], out: &mut dyn Write) -> io::Result<()> {
    for failure in results.iter().flat_map(|r| &r.failures) {
        writeln!(out, "FAIL {failure}")?;
    }
    Ok(())
}

/// Writes the summary: a `<file>: N passed, N failed` line per script, a
/// `skipped <location>: <directive>: <reason>` line per skipped directive,
/// and finally the total as `N passed, N failed` alone on its own line.
pub fn write_summary(results: &[FileResult], out: &mut dyn Write) -> io::Result<()> {
    for r in results {
        writeln!(out, "{}: {} passed, {} failed", r.file, r.passed, r.failed)?;
    }
    let totals = Totals::of(results);
    writeln!(out, "{} skipped directives", totals.skipped)?;
    for skipped in results.iter().flat_map(|r| &r.skipped) {
        writeln!(out, "skipped {skipped}")?;
    }
    if totals.native_functions + totals.native_fallbacks > 0 {
        writeln!(
            out,
            "{} functions ran as native code, {} were left to the interpreter",
            totals.native_functions, totals.native_fallbacks
        )?;
        if totals.osr_entries > 0 {
            writeln!(
                out,
                "{} running calls moved into native code at a loop header",
                totals.osr_entries
            )?;
        }
        for fallback in results.iter().flat_map(|r| &r.native_fallbacks) {
            writeln!(out, "interpreted {fallback}")?;
        }
    }
    writeln!(out, "{} passed, {} failed", totals.passed, totals.failed)
}

/// Writes the failures ([`write_failures`]) followed by the summary
/// ([`write_summary`]): the complete report of a run.
pub fn write_report(results: &[FileResult], out: &mut dyn Write) -> io::Result<()> {
    write_failures(results, out)?;
    write_summary(results, out)
}

/// Prints the complete report ([`write_report`]) to standard output.
pub fn print_report(results: &[FileResult]) {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    // A closed stdout (e.g. `| head`) is not worth a panic.
    let _ = write_report(results, &mut out);
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(
        results: &[FileResult],
        f: fn(&[FileResult], &mut dyn Write) -> io::Result<()>,
    ) -> String {
        let mut buf = Vec::new();
        f(results, &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    fn sample() -> Vec<FileResult> {
        let mut a = FileResult::new("wasm-v1/a.wast");
        a.pass();
        a.pass();
        let loc = a.location(3, 1);
        a.fail(loc, "assert_return", "expected i32 1, got i32 2".into());
        let mut b = FileResult::new("b.wast");
        b.pass();
        let loc = b.location(7, 2);
        b.skip(loc, "assert_trap", "not yet");
        vec![a, b]
    }

    #[test]
    fn summary_has_one_line_per_file_and_a_plain_closing_line() {
        let text = render(&sample(), write_summary);
        assert_eq!(
            text,
            "wasm-v1/a.wast: 2 passed, 1 failed\n\
             b.wast: 1 passed, 0 failed\n\
             1 skipped directives\n\
             skipped b.wast:7:2: assert_trap: not yet\n\
             3 passed, 1 failed\n"
        );
        assert_eq!(text.lines().last(), Some("3 passed, 1 failed"));
    }

    #[test]
    fn empty_summary_still_closes_with_totals() {
        let text = render(&[], write_summary);
        assert_eq!(text, "0 skipped directives\n0 passed, 0 failed\n");
    }

    #[test]
    fn report_lists_failures_before_the_summary() {
        let text = render(&sample(), write_report);
        let first = text.lines().next().unwrap();
        assert_eq!(
            first,
            "FAIL wasm-v1/a.wast:3:1: assert_return: expected i32 1, got i32 2"
        );
        assert_eq!(text.lines().last(), Some("3 passed, 1 failed"));
    }

    #[test]
    fn multi_line_messages_are_folded() {
        let mut r = FileResult::new("x.wast");
        let loc = r.location(1, 2);
        r.fail(
            loc,
            "invoke",
            "trap:\n    0: frame\n\n  wasm trap: unreachable\n".into(),
        );
        assert_eq!(
            r.failures[0].message,
            "trap: 0: frame wasm trap: unreachable"
        );
    }

    #[test]
    fn dependents_count_on_the_module_that_failed() {
        let mut r = FileResult::new("x.wast");
        let loc = r.location(2, 1);
        r.fail(loc, "module", "compilation failed: SIMD".into());
        for line in 3..6 {
            let loc = r.location(line, 1);
            r.fail_dependent((2, 1), loc, "assert_return", "needs the module".into());
        }
        assert_eq!((r.passed, r.failed, r.failures.len()), (0, 4, 1));
        assert_eq!(
            r.failures[0].to_string(),
            "x.wast:2:1: module: compilation failed: SIMD \
             [3 later directives needed this module: counted as failed]"
        );
        // Without the module's entry, the directive gets its own.
        let loc = r.location(9, 1);
        r.fail_dependent((7, 1), loc, "invoke", "needs the module".into());
        assert_eq!((r.failed, r.failures.len()), (5, 2));
        assert_eq!(
            r.failures[1].to_string(),
            "x.wast:9:1: invoke: needs the module"
        );
        assert_eq!(Totals::of(&[r]).failed, 5);
    }

    #[test]
    fn totals_and_file_errors() {
        let mut results = sample();
        results.push(FileResult::file_error("c.wast", 1, 1, "unreadable".into()));
        let t = Totals::of(&results);
        assert_eq!(
            t,
            Totals {
                passed: 3,
                failed: 2,
                skipped: 1,
                native_functions: 0,
                native_fallbacks: 0,
                osr_entries: 0,
            }
        );
        assert_eq!(
            results[2].failures[0].to_string(),
            "c.wast:1:1: script: unreadable"
        );
    }
}
