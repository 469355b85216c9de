//! A simple test-case reducer for divergent seeds.
//!
//! The module is printed as text (with `wasmprinter`, one instruction or
//! field per line), and runs of lines are deleted for as long as the
//! result still compiles in both tiers and still diverges when run the
//! way its seed runs it (same engines, arguments drawn from the same
//! stream; see [`run_module`]). Chunks start at half the module and halve
//! whenever no chunk of the current size can go (delta debugging, without
//! its complement step). Deleting a line often leaves the module invalid;
//! such candidates are simply refused, and deleting a whole block or a
//! value with its consumer together is what larger chunks are for. The
//! result is usually a few dozen lines, small enough to finish by hand.

use crate::run::{Fate, run_module};
use crate::{Options, Tiers};

/// Removes wasmprinter's comments (`(;=1.5;)` value notes, `;; label = @1`)
/// so that lines hold only code.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = line.split(" ;; ").next().unwrap_or(line);
        let mut rest = line;
        while let Some(start) = rest.find(" (;=") {
            out.push_str(&rest[..start]);
            match rest[start..].find(";)") {
                Some(end) => rest = &rest[start + end + 2..],
                None => {
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}

/// The functions of a module's text as printed by wasmprinter: for each,
/// the line after its header and `(local ...)` lines, and the line of its
/// closing `  )`.
fn functions(lines: &[String]) -> Vec<(usize, usize)> {
    let mut funcs = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let open = lines[i].matches('(').count() > lines[i].matches(')').count();
        if lines[i].starts_with("  (func ") && open {
            let mut body = i + 1;
            while body < lines.len() && lines[body].trim_start().starts_with("(local ") {
                body += 1;
            }
            let close = (body..lines.len())
                .find(|&j| lines[j] == "  )")
                .unwrap_or(lines.len());
            funcs.push((body, close));
            i = close;
        }
        i += 1;
    }
    funcs
}

/// How many blocks are open just before line `at` of a body starting at
/// line `body`.
fn depth(lines: &[String], body: usize, at: usize) -> usize {
    let mut depth = 0usize;
    for line in &lines[body..at] {
        let op = line.trim_start();
        if op.starts_with("block") || op.starts_with("loop") || op.starts_with("if") {
            depth += 1;
        } else if op == "end" {
            depth = depth.saturating_sub(1);
        }
    }
    depth
}

/// Reduces `text`, the module of `seed` as text, to a smaller module that
/// still diverges, trying at most `budget` candidates. `None` if `text`
/// does not diverge to begin with.
///
/// Three passes, repeated while they make progress: whole function bodies
/// replaced by `unreachable`; each remaining body cut short at the earliest
/// line where `unreachable` (and the `end`s of the blocks open there)
/// still diverges — state is compared after a trap too, so the code after
/// the divergent instruction can go; and runs of lines deleted.
pub fn reduce(
    seed: u64,
    text: &str,
    tiers: &Tiers,
    opts: &Options,
    budget: usize,
) -> Option<String> {
    let tries = std::cell::Cell::new(0);
    let diverges = |lines: &[String]| {
        tries.set(tries.get() + 1);
        if tries.get() > budget {
            return false;
        }
        let report = run_module(seed, lines.join("\n").as_bytes(), tiers, opts, false);
        report.fate == Fate::Compiled
            && report
                .divergence
                .is_some_and(|d| !d.contains("the tester panicked"))
    };
    let mut lines: Vec<String> = strip_comments(text).lines().map(String::from).collect();
    if !diverges(&lines) {
        return None;
    }
    loop {
        let before = lines.len();

        // Stub whole functions, last first (indices stay valid).
        for (body, close) in functions(&lines).into_iter().rev() {
            if close - body <= 1 {
                continue;
            }
            let candidate: Vec<String> = lines[..body]
                .iter()
                .cloned()
                .chain(["    unreachable".to_string()])
                .chain(lines[close..].iter().cloned())
                .collect();
            if diverges(&candidate) {
                lines = candidate;
            }
        }

        // Cut each body short at the earliest line that keeps the divergence.
        for (body, close) in functions(&lines).into_iter().rev() {
            for at in body..close {
                let ends = depth(&lines, body, at);
                let candidate: Vec<String> = lines[..at]
                    .iter()
                    .cloned()
                    .chain(["    unreachable".to_string()])
                    .chain(std::iter::repeat_n("    end".to_string(), ends))
                    .chain(lines[close..].iter().cloned())
                    .collect();
                if candidate.len() < lines.len() && diverges(&candidate) {
                    lines = candidate;
                    break;
                }
            }
        }

        // Delete runs of lines, halving the run length when none can go.
        let mut chunk = (lines.len() / 2).max(1);
        loop {
            let mut progress = false;
            // Never the first line, `(module`, nor the last, `)`.
            let mut i = 1;
            while i + 1 < lines.len() {
                let end = (i + chunk).min(lines.len() - 1);
                let candidate: Vec<String> =
                    lines[..i].iter().chain(&lines[end..]).cloned().collect();
                if diverges(&candidate) {
                    lines = candidate;
                    progress = true;
                } else {
                    i = end;
                }
            }
            if !progress {
                if chunk == 1 {
                    break;
                }
                chunk = (chunk / 2).max(1);
            }
        }

        if lines.len() >= before || tries.get() > budget {
            break;
        }
    }
    Some(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_stripped() {
        let text =
            "(module\n  f32.const 0x1p+0 (;=1;)\n  block ;; label = @1\n  (type (;0;) (func)))\n";
        assert_eq!(
            strip_comments(text),
            "(module\n  f32.const 0x1p+0\n  block\n  (type (;0;) (func)))\n"
        );
    }
}
