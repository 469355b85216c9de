//! wasmtime-style option groups: `-W KEY[=VAL],KEY[=VAL]...` and its
//! siblings `-S`, `-C` and `-O`.
//!
//! A group is a struct of settings plus a table of [`Key`]s. On the command
//! line each occurrence of the flag is a comma-separated list of keys, each
//! with an optional `=VALUE`; a flag may be repeated, and a later setting of
//! a key replaces an earlier one. `-W help` prints the group's table and
//! exits. An unknown key, or a value its key cannot parse, is a usage error
//! (clap's, exit status 2) naming the key.
//!
//! Values use wasmtime's syntax: booleans are `y`, `yes`, `true`, `n`, `no`
//! or `false` (a key alone means yes), numbers are decimal or `0x`
//! hexadecimal, durations are whole seconds or numbers with units (`500ms`,
//! `10s`, `1m30s`).

mod codegen;
mod optimize;
mod value;
mod wasi;
mod wasm;

use std::ffi::OsStr;
use std::io::Write as _;
use std::marker::PhantomData;

use clap::builder::{TypedValueParser, ValueParserFactory};
use clap::error::{Error, ErrorKind};

pub use codegen::{Codegen, StrategyArg};
pub use optimize::Optimize;
pub use wasi::Wasi;
pub use wasm::Wasm;

/// What a key does.
pub enum Action<G> {
    /// Kiln implements the key: parse the value into the group's settings.
    Set(fn(&mut G, Option<&str>) -> anyhow::Result<()>),
    /// Accepted so that wasmtime command lines work, with no effect in Kiln
    /// (the help says why); the value is still checked.
    Ignored(fn(Option<&str>) -> anyhow::Result<()>),
    /// A wasmtime switch for a feature Kiln does not have: turning it off
    /// (`=n`) is accepted, turning it on is an error.
    MissingFeature,
    /// A wasmtime key for something Kiln does not have: always an error.
    Missing,
}

/// One key of an option group.
pub struct Key<G> {
    /// The key as written on the command line (`max-wasm-stack`).
    pub name: &'static str,
    /// How its value is written, for the help (`=N`, `[=y|n]`).
    pub value: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// What giving the key does.
    pub action: Action<G>,
}

/// An option group: the settings of `-W`, `-S`, `-C` or `-O`.
pub trait Group: Default + Sized + Send + Sync + 'static {
    /// The short flag (`W`).
    const SHORT: char;
    /// The long flag (`wasm`).
    const LONG: &'static str;
    /// The table of keys, in the order `help` lists them.
    const KEYS: &'static [Key<Self>];
}

/// The keys of one occurrence of a group's flag, as (index into
/// [`Group::KEYS`], value), checked when the command line was parsed.
pub struct Settings<G> {
    items: Vec<(usize, Option<String>)>,
    group: PhantomData<fn() -> G>,
}

impl<G> Clone for Settings<G> {
    fn clone(&self) -> Self {
        Settings {
            items: self.items.clone(),
            group: PhantomData,
        }
    }
}

impl<G> std::fmt::Debug for Settings<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.items).finish()
    }
}

/// The settings of every occurrence of a group's flag, applied in order.
pub fn resolve<G: Group>(occurrences: &[Settings<G>]) -> anyhow::Result<G> {
    let mut group = G::default();
    for (index, value) in occurrences.iter().flat_map(|s| &s.items) {
        apply(&mut group, &G::KEYS[*index], value.as_deref())?;
    }
    Ok(group)
}

/// Applies one key to `group`.
fn apply<G: Group>(group: &mut G, key: &Key<G>, value: Option<&str>) -> anyhow::Result<()> {
    match &key.action {
        Action::Set(set) => set(group, value),
        Action::Ignored(check) => check(value),
        Action::MissingFeature => {
            if value::flag(value)? {
                anyhow::bail!(
                    "Kiln does not support this ({}); only `=n` is accepted",
                    key.help
                )
            }
            Ok(())
        }
        Action::Missing => anyhow::bail!("Kiln does not support this ({})", key.help),
    }
}

/// Parses the text of one occurrence (`fuel=1000,epoch-interruption`).
fn parse_settings<G: Group>(text: &str) -> Result<Settings<G>, String> {
    let mut items = Vec::new();
    for item in text.split(',') {
        let (name, value) = match item.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (item, None),
        };
        let Some(index) = G::KEYS.iter().position(|k| k.name == name) else {
            return Err(format!(
                "unknown -{} / --{} option: `{name}` (`-{} help` lists them)",
                G::SHORT,
                G::LONG,
                G::SHORT
            ));
        };
        let key = &G::KEYS[index];
        apply(&mut G::default(), key, value)
            .map_err(|e| format!("invalid -{} option `{item}`: {e:#}", G::SHORT))?;
        items.push((index, value.map(str::to_string)));
    }
    Ok(Settings {
        items,
        group: PhantomData,
    })
}

/// The text `-W help` prints: every key with its value syntax and help.
pub fn help_text<G: Group>() -> String {
    let column = G::KEYS
        .iter()
        .map(|k| k.name.len() + k.value.len())
        .max()
        .unwrap_or(0);
    let mut out = format!("Available -{} (--{}) options:\n\n", G::SHORT, G::LONG);
    for key in G::KEYS {
        let spelled = format!("{}{}", key.name, key.value);
        let note = match key.action {
            Action::Set(_) => "",
            Action::Ignored(_) => "[no effect in Kiln] ",
            Action::MissingFeature => "[not in Kiln: only =n accepted] ",
            Action::Missing => "[not in Kiln: an error] ",
        };
        out += &format!("  -{} {spelled:<column$}  {note}{}\n", G::SHORT, key.help);
    }
    out += &format!(
        "\nKeys are comma-separated (-{0} a,b=1) and the flag may be repeated; a later \
         setting wins.\nBooleans: y, yes, true, n, no, false (a key alone means yes).\n",
        G::SHORT
    );
    out
}

impl<G: Group> ValueParserFactory for Settings<G> {
    type Parser = SettingsParser<G>;
    fn value_parser() -> SettingsParser<G> {
        SettingsParser(PhantomData)
    }
}

/// clap's parser for a group's flag; `help` prints [`help_text`] and exits.
pub struct SettingsParser<G>(PhantomData<fn() -> G>);

impl<G> Clone for SettingsParser<G> {
    fn clone(&self) -> Self {
        SettingsParser(PhantomData)
    }
}

impl<G: Group> TypedValueParser for SettingsParser<G> {
    type Value = Settings<G>;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Settings<G>, Error> {
        let Some(text) = value.to_str() else {
            return Err(Error::raw(
                ErrorKind::InvalidUtf8,
                format!("the -{} value is not UTF-8\n", G::SHORT),
            )
            .with_cmd(cmd));
        };
        if text == "help" {
            // As in wasmtime: the keys, then exit, whatever else was given.
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(help_text::<G>().as_bytes());
            let _ = stdout.flush();
            std::process::exit(0);
        }
        parse_settings::<G>(text)
            .map_err(|message| Error::raw(ErrorKind::InvalidValue, message + "\n").with_cmd(cmd))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings<G: Group>(texts: &[&str]) -> Result<G, String> {
        let parsed = texts
            .iter()
            .map(|t| parse_settings::<G>(t))
            .collect::<Result<Vec<_>, _>>()?;
        resolve(&parsed).map_err(|e| e.to_string())
    }

    #[test]
    fn keys_are_comma_separated_and_later_settings_win() {
        let wasm: Wasm = settings(&["fuel=10,max-wasm-stack=0x1000", "fuel=20"]).unwrap();
        assert_eq!(wasm.fuel, Some(20));
        assert_eq!(wasm.max_wasm_stack, Some(4096));
        let wasm: Wasm = settings(&["simd", "simd=n,bulk-memory=no"]).unwrap();
        assert_eq!(wasm.simd, Some(false));
        assert_eq!(wasm.bulk_memory, Some(false));
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let err = settings::<Wasm>(&["fuel=1,frobnicate"]).unwrap_err();
        assert!(
            err.contains("unknown -W / --wasm option: `frobnicate`"),
            "{err}"
        );
        let err = settings::<Wasm>(&["fuel=lots"]).unwrap_err();
        assert!(err.contains("invalid -W option `fuel=lots`"), "{err}");
        let err = settings::<Wasm>(&["fuel"]).unwrap_err();
        assert!(err.contains("needs a value"), "{err}");
        let err = settings::<Wasi>(&["inherit-env=maybe"]).unwrap_err();
        assert!(err.contains("`maybe`"), "{err}");
    }

    #[test]
    fn missing_features_may_only_be_turned_off() {
        assert!(settings::<Wasm>(&["tail-call=n"]).is_ok());
        let err = settings::<Wasm>(&["tail-call"]).unwrap_err();
        assert!(err.contains("Kiln does not support"), "{err}");
        let err = settings::<Wasi>(&["tcplisten=127.0.0.1:80"]).unwrap_err();
        assert!(err.contains("Kiln does not support"), "{err}");
    }

    #[test]
    fn help_lists_every_key_with_its_value_syntax() {
        let help = help_text::<Wasm>();
        for key in Wasm::KEYS {
            assert!(
                help.contains(&format!("-W {}{}", key.name, key.value)),
                "{} missing:\n{help}",
                key.name
            );
        }
        assert!(help.starts_with("Available -W (--wasm) options:\n"));
    }

    #[test]
    fn every_group_names_each_key_once() {
        fn check<G: Group>() {
            let mut names: Vec<_> = G::KEYS.iter().map(|k| k.name).collect();
            names.sort_unstable();
            let len = names.len();
            names.dedup();
            assert_eq!(names.len(), len, "-{} repeats a key", G::SHORT);
        }
        check::<Wasm>();
        check::<Wasi>();
        check::<Codegen>();
        check::<Optimize>();
    }
}
