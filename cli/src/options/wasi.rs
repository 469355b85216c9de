//! `-S` / `--wasi`: which WASI the program gets.

use super::value::flag;
use super::{Action, Group, Key};

/// The `-S` settings (`None`: not given).
#[derive(Default, Debug, Clone, PartialEq)]
pub struct Wasi {
    /// `cli` (or its old name `common`): link WASI preview 1 (default on).
    pub cli: Option<bool>,
    /// `inherit-env`: pass the host's environment (before `--env`).
    pub inherit_env: Option<bool>,
    /// `preview0`: also link the older `wasi_unstable` names (default on,
    /// with `cli`).
    pub preview0: Option<bool>,
}

impl Wasi {
    /// Whether the program is linked against WASI preview 1.
    pub fn cli(&self) -> bool {
        self.cli.unwrap_or(true)
    }

    /// Whether the program is linked against `wasi_unstable` as well.
    pub fn preview0(&self) -> bool {
        self.cli() && self.preview0.unwrap_or(true)
    }
}

/// A wasmtime WASI switch for something Kiln lacks: only `=n` is accepted.
const fn missing_switch(name: &'static str, help: &'static str) -> Key<Wasi> {
    Key {
        name,
        value: "[=y|n]",
        help,
        action: Action::MissingFeature,
    }
}

/// A wasmtime WASI setting for something Kiln lacks: always an error.
const fn missing_setting(name: &'static str, value: &'static str, help: &'static str) -> Key<Wasi> {
    Key {
        name,
        value,
        help,
        action: Action::Missing,
    }
}

impl Group for Wasi {
    const SHORT: char = 'S';
    const LONG: &'static str = "wasi";
    const KEYS: &'static [Key<Wasi>] = &[
        Key {
            name: "cli",
            value: "[=y|n]",
            help: "link WASI preview 1 (args, environment, files, clocks, random; default on)",
            action: Action::Set(|w, v| {
                w.cli = Some(flag(v)?);
                Ok(())
            }),
        },
        Key {
            name: "common",
            value: "[=y|n]",
            help: "the old name of `cli`",
            action: Action::Set(|w, v| {
                w.cli = Some(flag(v)?);
                Ok(())
            }),
        },
        Key {
            name: "inherit-env",
            value: "[=y|n]",
            help: "pass every environment variable of the host (`--env` still adds or overrides)",
            action: Action::Set(|w, v| {
                w.inherit_env = Some(flag(v)?);
                Ok(())
            }),
        },
        Key {
            name: "preview2",
            value: "[=y|n]",
            help: "choose wasmtime's WASI preview 1 implementation: Kiln has one",
            action: Action::Ignored(|v| flag(v).map(drop)),
        },
        Key {
            name: "preview0",
            value: "[=y|n]",
            help: "also link the older `wasi_unstable` imports (default on, with `cli`)",
            action: Action::Set(|w, v| {
                w.preview0 = Some(flag(v)?);
                Ok(())
            }),
        },
        missing_switch("cli-exit-with-code", "the unstable exit-with-code API"),
        missing_switch("threads", "wasi-threads"),
        missing_switch("nn", "wasi-nn"),
        missing_switch("http", "wasi-http"),
        missing_switch("config", "wasi-config"),
        missing_switch("keyvalue", "wasi-keyvalue"),
        missing_switch("tls", "wasi-tls"),
        missing_switch("p3", "WASIp3"),
        missing_switch("listenfd", "inheriting systemd listen sockets"),
        missing_switch("inherit-network", "network access"),
        missing_switch("allow-ip-name-lookup", "IP name lookup"),
        missing_switch("tcp", "TCP sockets"),
        missing_switch("udp", "UDP sockets"),
        missing_switch("network-error-code", "the unstable network-error-code API"),
        missing_setting("tcplisten", "=ADDR", "granting a TCP listen socket"),
        missing_setting("nn-graph", "=FORMAT::DIR", "wasi-nn graphs"),
        missing_setting("config-var", "=NAME=VAL", "wasi-config variables"),
        missing_setting("keyvalue-in-memory-data", "=KEY=VAL", "wasi-keyvalue data"),
        missing_setting("max-resources", "=N", "component-model resource limits"),
        missing_setting("hostcall-fuel", "=N", "component-model hostcall fuel"),
        missing_setting("max-random-size", "=N", "the wasi-random 0.2 size limit"),
        missing_setting("max-http-fields-size", "=N", "wasi-http limits"),
        Key {
            name: "http-outgoing-body-buffer-chunks",
            value: "=N",
            help: "wasi-http buffering",
            action: Action::Missing,
        },
        Key {
            name: "http-outgoing-body-chunk-size",
            value: "=N",
            help: "wasi-http buffering",
            action: Action::Missing,
        },
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{parse_settings, resolve};

    fn wasi(text: &str) -> Result<Wasi, String> {
        let parsed = parse_settings::<Wasi>(text)?;
        resolve(&[parsed]).map_err(|e| e.to_string())
    }

    #[test]
    fn cli_defaults_on_and_common_is_its_old_name() {
        assert!(Wasi::default().cli());
        assert!(!wasi("cli=n").unwrap().cli());
        assert!(!wasi("common=no").unwrap().cli());
        assert_eq!(wasi("inherit-env").unwrap().inherit_env, Some(true));
        assert_eq!(wasi("preview2=n").unwrap(), Wasi::default());
        assert_eq!(wasi("tcp=n,http=no").unwrap(), Wasi::default());
        assert!(wasi("http").unwrap_err().contains("wasi-http"));
        assert!(Wasi::default().preview0());
        assert!(!wasi("preview0=n").unwrap().preview0());
        assert!(!wasi("cli=n").unwrap().preview0());
    }
}
