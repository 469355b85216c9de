//! The library half of the `kiln` command-line tool.
//!
//! `src/bin/kiln.rs` only parses the command line; running a function from
//! a file (converting textual arguments by the function's parameter types,
//! formatting its results) and running scripts live here, where they can be
//! unit-tested and reused. They sit in `kiln::wast` because the `cli`
//! feature already implies `wast`, and `kiln wast` shares the runner.

use std::path::Path;

use anyhow::{Context as _, anyhow, bail};

use crate::{Engine, Extern, Instance, Module, Store, Val, ValType};

use super::{FileResult, WastRunner};

/// Parses a command-line argument as a value of type `ty`.
///
/// Integers are decimal (optionally negative) or `0x` hexadecimal, taken as
/// the bit pattern (so `0xffffffff` is the `i32` -1). Floats accept what
/// Rust's float parser accepts, including `nan`, `inf` and `-inf`.
pub fn parse_arg(ty: &ValType, text: &str) -> anyhow::Result<Val> {
    let text = text.trim();
    let bad = || anyhow!("invalid {} argument `{text}`", type_name(ty));
    Ok(match ty {
        ValType::I32 => Val::I32(match hex_digits(text) {
            Some((negative, digits)) => {
                let v = u32::from_str_radix(digits, 16).map_err(|_| bad())?;
                (if negative { v.wrapping_neg() } else { v }) as i32
            }
            None => text
                .parse::<i32>()
                .or_else(|_| text.parse::<u32>().map(|v| v as i32))
                .map_err(|_| bad())?,
        }),
        ValType::I64 => Val::I64(match hex_digits(text) {
            Some((negative, digits)) => {
                let v = u64::from_str_radix(digits, 16).map_err(|_| bad())?;
                (if negative { v.wrapping_neg() } else { v }) as i64
            }
            None => text
                .parse::<i64>()
                .or_else(|_| text.parse::<u64>().map(|v| v as i64))
                .map_err(|_| bad())?,
        }),
        ValType::F32 => Val::F32(text.parse::<f32>().map_err(|_| bad())?.to_bits()),
        ValType::F64 => Val::F64(text.parse::<f64>().map_err(|_| bad())?.to_bits()),
        #[allow(unreachable_patterns)]
        _ => bail!(
            "parameters of type {} cannot be passed on the command line",
            type_name(ty)
        ),
    })
}

/// `0x1f` → `(false, "1f")`, `-0x1f` → `(true, "1f")`, decimal → `None`.
fn hex_digits(text: &str) -> Option<(bool, &str)> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    rest.strip_prefix("0x")
        .or_else(|| rest.strip_prefix("0X"))
        .map(|digits| (negative, digits))
}

/// A short name for a value type, for messages.
fn type_name(ty: &ValType) -> String {
    match ty {
        ValType::I32 => "i32".to_string(),
        ValType::I64 => "i64".to_string(),
        ValType::F32 => "f32".to_string(),
        ValType::F64 => "f64".to_string(),
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

/// Formats a result for the command line: integers in decimal, floats with
/// Rust's `{}` formatting of the float (`1.5`, `NaN`, `inf`), references as
/// `null`, `<funcref>` or `<externref>`.
pub fn format_val(val: &Val) -> String {
    match val {
        Val::I32(v) => v.to_string(),
        Val::I64(v) => v.to_string(),
        Val::F32(bits) => f32::from_bits(*bits).to_string(),
        Val::F64(bits) => f64::from_bits(*bits).to_string(),
        Val::FuncRef(None) | Val::ExternRef(None) => "null".to_string(),
        Val::FuncRef(Some(_)) => "<funcref>".to_string(),
        Val::ExternRef(Some(_)) => "<externref>".to_string(),
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

/// Loads a `.wasm` or `.wat` file, instantiates it without imports, calls
/// `invoke` (or `_start` when `None`) with `args` converted by the
/// function's parameter types, and returns the formatted results, one
/// string per result.
pub fn run_wasm_file(
    path: &Path,
    invoke: Option<&str>,
    args: &[String],
) -> anyhow::Result<Vec<String>> {
    let bytes =
        std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
    // `wat::parse_bytes` passes binaries through unchanged.
    let binary =
        wat::parse_bytes(&bytes).with_context(|| format!("failed to parse {}", path.display()))?;
    let engine = Engine::default();
    let module = Module::new(&engine, &binary)
        .with_context(|| format!("failed to compile {}", path.display()))?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).context("failed to instantiate")?;

    let name = match invoke {
        Some(name) => name,
        None => match instance.get_export(&mut store, "_start") {
            Some(Extern::Func(_)) => "_start",
            _ => bail!("no function to run: pass --invoke NAME"),
        },
    };
    let func = match instance.get_export(&mut store, name) {
        Some(Extern::Func(f)) => f,
        Some(_) => bail!("export `{name}` is not a function"),
        None => bail!("no exported function named `{name}`"),
    };
    let ty = func.ty(&store);
    let params: Vec<ValType> = ty.params().collect();
    if params.len() != args.len() {
        bail!(
            "`{name}` takes {} arguments, {} given",
            params.len(),
            args.len()
        );
    }
    let args = params
        .iter()
        .zip(args)
        .map(|(ty, arg)| parse_arg(ty, arg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut results = vec![Val::I32(0); ty.results().len()];
    func.call(&mut store, &args, &mut results)
        .with_context(|| format!("`{name}` failed"))?;
    Ok(results.iter().map(format_val).collect())
}

/// Runs each `.wast` file, in order; a file that cannot be read counts as
/// one failure.
pub fn run_wast_files(paths: &[impl AsRef<Path>]) -> Vec<FileResult> {
    let runner = WastRunner::new();
    paths
        .iter()
        .map(|path| {
            let path = path.as_ref();
            let name = path.display().to_string();
            match std::fs::read_to_string(path) {
                Ok(text) => runner.run_script(&name, &text),
                Err(e) => FileResult::file_error(name, 1, 1, format!("failed to read: {e}")),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i32_of(text: &str) -> Option<i32> {
        match parse_arg(&ValType::I32, text).ok()? {
            Val::I32(v) => Some(v),
            _ => None,
        }
    }

    fn i64_of(text: &str) -> Option<i64> {
        match parse_arg(&ValType::I64, text).ok()? {
            Val::I64(v) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn integers_parse_in_decimal_and_hex() {
        assert_eq!(i32_of("20"), Some(20));
        assert_eq!(i32_of("-7"), Some(-7));
        assert_eq!(i32_of("0x10"), Some(16));
        assert_eq!(i32_of("0xffffffff"), Some(-1));
        assert_eq!(i32_of("4294967295"), Some(-1));
        assert_eq!(i32_of("-0x1"), Some(-1));
        assert_eq!(i32_of("0x100000000"), None);
        assert_eq!(i32_of("twelve"), None);
        assert_eq!(i64_of("0x8000000000000000"), Some(i64::MIN));
        assert_eq!(i64_of("-9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn floats_parse_including_nan_and_infinities() {
        let f32_bits = |t: &str| match parse_arg(&ValType::F32, t).unwrap() {
            Val::F32(b) => b,
            _ => unreachable!(),
        };
        let f64_bits = |t: &str| match parse_arg(&ValType::F64, t).unwrap() {
            Val::F64(b) => b,
            _ => unreachable!(),
        };
        assert_eq!(f32_bits("1.5"), 1.5f32.to_bits());
        assert!(f32::from_bits(f32_bits("nan")).is_nan());
        assert_eq!(f32_bits("inf"), f32::INFINITY.to_bits());
        assert_eq!(f64_bits("-inf"), f64::NEG_INFINITY.to_bits());
        assert_eq!(f64_bits("-0"), (-0.0f64).to_bits());
        assert!(parse_arg(&ValType::F64, "1.2.3").is_err());
    }

    #[test]
    fn results_format_like_rust() {
        assert_eq!(format_val(&Val::I32(-3)), "-3");
        assert_eq!(format_val(&Val::I64(6765)), "6765");
        assert_eq!(format_val(&Val::F32(2.5f32.to_bits())), "2.5");
        assert_eq!(format_val(&Val::F64(f64::NAN.to_bits())), "NaN");
        assert_eq!(format_val(&Val::F64(f64::INFINITY.to_bits())), "inf");
        assert_eq!(format_val(&Val::FuncRef(None)), "null");
    }
}
