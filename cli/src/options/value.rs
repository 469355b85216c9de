//! Parsing of option-group values, in wasmtime's syntax.

use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};

/// A boolean: absent, `y`, `yes` or `true` is true; `n`, `no` or `false`
/// is false.
pub fn flag(value: Option<&str>) -> anyhow::Result<bool> {
    match value {
        None | Some("y" | "yes" | "true") => Ok(true),
        Some("n" | "no" | "false") => Ok(false),
        Some(other) => {
            bail!("unknown boolean `{other}`: only y, yes, true, n, no or false are accepted")
        }
    }
}

/// The value of a key that needs one (`KEY=VALUE`).
pub fn required(value: Option<&str>) -> anyhow::Result<&str> {
    value.ok_or_else(|| anyhow!("needs a value (KEY=VALUE)"))
}

/// An unsigned number, decimal or `0x` hexadecimal, that fits `T`.
pub fn number<T: TryFrom<u64>>(value: Option<&str>) -> anyhow::Result<T> {
    let text = required(value)?;
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse::<u64>(),
    }
    .with_context(|| format!("`{text}` is not a number"))?;
    T::try_from(parsed).map_err(|_| anyhow!("{text} is too large"))
}

/// A duration: a whole number of seconds (`10`), or whole numbers with
/// units, one after another (`500ms`, `10s`, `1m30s`, `2h`). Units: `ns`,
/// `us`, `ms`, `s`, `m`, `h`, `d` (and their longer spellings `sec`, `min`,
/// `hour`, ...).
pub fn duration(value: Option<&str>) -> anyhow::Result<Duration> {
    let text = required(value)?;
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let bad = || anyhow!("`{text}` is not a duration (examples: 10, 10s, 500ms, 1m30s)");
    let mut rest = text.trim();
    let mut total = Duration::ZERO;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let amount: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c.is_whitespace())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ns" | "nsec" | "nanos" => Duration::from_nanos(1),
            "us" | "µs" | "usec" | "micros" => Duration::from_micros(1),
            "ms" | "msec" | "millis" => Duration::from_millis(1),
            "s" | "sec" | "secs" | "second" | "seconds" => Duration::from_secs(1),
            "m" | "min" | "mins" | "minute" | "minutes" => Duration::from_secs(60),
            "h" | "hr" | "hrs" | "hour" | "hours" => Duration::from_secs(3600),
            "d" | "day" | "days" => Duration::from_secs(86400),
            _ => return Err(bad()),
        };
        let part = u32::try_from(amount)
            .ok()
            .and_then(|n| unit.checked_mul(n))
            .ok_or_else(bad)?;
        total = total.checked_add(part).ok_or_else(bad)?;
        rest = rest[unit_len..].trim_start();
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        for yes in [None, Some("y"), Some("yes"), Some("true")] {
            assert!(flag(yes).unwrap());
        }
        for no in ["n", "no", "false"] {
            assert!(!flag(Some(no)).unwrap());
        }
        assert!(flag(Some("1")).is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(number::<u64>(Some("1000")).unwrap(), 1000);
        assert_eq!(number::<usize>(Some("0x10")).unwrap(), 16);
        assert!(number::<u32>(Some("0x100000000")).is_err());
        assert!(number::<u64>(Some("-1")).is_err());
        assert!(number::<u64>(None).is_err());
    }

    #[test]
    fn durations() {
        let ms = Duration::from_millis;
        assert_eq!(duration(Some("10")).unwrap(), Duration::from_secs(10));
        assert_eq!(duration(Some("10s")).unwrap(), Duration::from_secs(10));
        assert_eq!(duration(Some("500ms")).unwrap(), ms(500));
        assert_eq!(duration(Some("1m30s")).unwrap(), Duration::from_secs(90));
        assert_eq!(duration(Some("1s 250ms")).unwrap(), ms(1250));
        assert_eq!(duration(Some("20us")).unwrap(), Duration::from_micros(20));
        for bad in ["", "ms", "10x", "1.5s", "-1s", "s10"] {
            assert!(duration(Some(bad)).is_err(), "{bad:?}");
        }
        assert!(duration(None).is_err());
    }
}
