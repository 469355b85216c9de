//! The Cranelift target: the host machine, with Kiln's settings.

use anyhow::{Context as _, Result, anyhow};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};

/// Cranelift for the machine this runs on, optimising at `opt_level`
/// (`"none"`, `"speed"` or `"speed_and_size"`), checking its IR with
/// Cranelift's verifier if `verify`.
///
/// The settings that matter for Kiln's ABI: no stack probes and no unwind
/// info (native frames are left by ordinary returns, see the crate docs),
/// frame pointers in every function (the runtime lists the native frames on
/// the stack by following them, see `kiln_vm::VMActivation`), multiple
/// return values allowed in any number (a function returns its status and
/// all its results).
pub(crate) fn host_isa(opt_level: &str, verify: bool) -> Result<OwnedTargetIsa> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, name: &str, value: &str| {
        flags
            .set(name, value)
            .map_err(|e| anyhow!("cannot set Cranelift's `{name}` to `{value}`: {e}"))
    };
    set(&mut flags, "opt_level", opt_level)?;
    set(&mut flags, "enable_probestack", "false")?;
    set(&mut flags, "unwind_info", "false")?;
    set(&mut flags, "preserve_frame_pointers", "true")?;
    set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
    set(
        &mut flags,
        "enable_verifier",
        if verify { "true" } else { "false" },
    )?;
    let isa = cranelift_native::builder()
        .map_err(|e| anyhow!("Cranelift does not support this machine: {e}"))?;
    isa.finish(settings::Flags::new(flags))
        .context("cannot configure Cranelift for this machine")
}
