//! The `spectest` host module that the official scripts import from.
//!
//! Its contents are fixed by the reference interpreter: `print*` functions
//! with no results, four constant globals holding 666 / 666.6, a funcref
//! table of 10..20 elements and a memory of 1..2 pages.

use crate::{
    Global, GlobalType, Linker, Memory, MemoryType, Mutability, Ref, RefType, Result, Store, Table,
    TableType, Val, ValType,
};

/// Defines every `spectest` item in `linker`, owned by `store`.
///
/// When `print` is true the `print*` functions write their arguments to
/// standard output like the reference interpreter does; otherwise they do
/// nothing (the summary is the only output of a spec run).
pub fn define_spectest<T: 'static>(
    linker: &mut Linker<T>,
    store: &mut Store<T>,
    print: bool,
) -> Result<()> {
    linker.func_wrap("spectest", "print", move || {
        if print {
            println!();
        }
    })?;
    linker.func_wrap("spectest", "print_i32", move |x: i32| {
        if print {
            println!("{x}: i32");
        }
    })?;
    linker.func_wrap("spectest", "print_i64", move |x: i64| {
        if print {
            println!("{x}: i64");
        }
    })?;
    linker.func_wrap("spectest", "print_f32", move |x: f32| {
        if print {
            println!("{x}: f32");
        }
    })?;
    linker.func_wrap("spectest", "print_f64", move |x: f64| {
        if print {
            println!("{x}: f64");
        }
    })?;
    linker.func_wrap("spectest", "print_i32_f32", move |x: i32, y: f32| {
        if print {
            println!("{x}: i32");
            println!("{y}: f32");
        }
    })?;
    linker.func_wrap("spectest", "print_f64_f64", move |x: f64, y: f64| {
        if print {
            println!("{x}: f64");
            println!("{y}: f64");
        }
    })?;

    let globals = [
        ("global_i32", ValType::I32, Val::I32(666)),
        ("global_i64", ValType::I64, Val::I64(666)),
        ("global_f32", ValType::F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", ValType::F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, ty, value) in globals {
        let global = Global::new(&mut *store, GlobalType::new(ty, Mutability::Const), value)?;
        linker.define(&*store, "spectest", name, global)?;
    }

    let table = Table::new(
        &mut *store,
        TableType::new(RefType::FUNCREF, 10, Some(20)),
        Ref::Func(None),
    )?;
    linker.define(&*store, "spectest", "table", table)?;

    let memory = Memory::new(&mut *store, MemoryType::new(1, Some(2)))?;
    linker.define(&*store, "spectest", "memory", memory)?;
    Ok(())
}
