//! What the host can see of an instance, in a form two stores can be
//! compared in.
//!
//! Numbers compare by value and floats by their bits (so NaN payloads and
//! signs count). A function reference is not comparable across stores as
//! a handle, so it is named by the export that exports the same function
//! (every function is exported, see [`crate::generate`]); an `externref`
//! only by whether it is null.

use kiln::{Func, Global, Instance, Memory, Ref, Store, Table, Trap, Val, WasmBacktrace};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// A value as the embedder sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`, by its bits.
    F32(u32),
    /// An `f64`, by its bits.
    F64(u64),
    /// A `funcref`: null, or the name of an export of the same function
    /// (`"?"` if no export has it).
    FuncRef(Option<String>),
    /// An `externref`: whether it is non-null.
    ExternRef(bool),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I32(v) => write!(f, "i32:{v}"),
            Value::I64(v) => write!(f, "i64:{v}"),
            Value::F32(bits) => write!(f, "f32:{bits:#010x}({})", f32::from_bits(*bits)),
            Value::F64(bits) => write!(f, "f64:{bits:#018x}({})", f64::from_bits(*bits)),
            Value::FuncRef(None) => f.write_str("funcref:null"),
            Value::FuncRef(Some(name)) => write!(f, "funcref:{name:?}"),
            Value::ExternRef(false) => f.write_str("externref:null"),
            Value::ExternRef(true) => f.write_str("externref:non-null"),
        }
    }
}

/// A host argument (always comparable: references are null), for messages.
pub fn arg_value(val: &Val) -> Value {
    match val {
        Val::I32(v) => Value::I32(*v),
        Val::I64(v) => Value::I64(*v),
        Val::F32(v) => Value::F32(*v),
        Val::F64(v) => Value::F64(*v),
        Val::FuncRef(f) => Value::FuncRef(f.map(|_| "?".to_string())),
        Val::ExternRef(e) => Value::ExternRef(e.is_some()),
    }
}

/// `a, b, c` for messages.
pub fn list(values: &[Value]) -> String {
    values
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a call, or an instantiation, ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It returned these results.
    Returned(Vec<Value>),
    /// It trapped, with this backtrace (function indices, innermost first).
    Trapped {
        /// The trap code.
        code: Trap,
        /// The backtrace's function indices, innermost first.
        frames: Vec<u32>,
    },
    /// It failed with an error that is not a trap (its message).
    Failed(String),
    /// Kiln panicked (the panic's message): a bug whichever tier it is in.
    Panicked(String),
}

impl Outcome {
    /// The outcome of an error returned by Kiln.
    pub fn of_error(err: &kiln::Error) -> Outcome {
        match err.downcast_ref::<Trap>() {
            Some(code) => Outcome::Trapped {
                code: *code,
                frames: err
                    .downcast_ref::<WasmBacktrace>()
                    .map(|bt| bt.frames().iter().map(|f| f.func_index()).collect())
                    .unwrap_or_default(),
            },
            None => Outcome::Failed(format!("{err:#}")),
        }
    }

    /// The trap code, if it trapped.
    pub fn trap(&self) -> Option<Trap> {
        match self {
            Outcome::Trapped { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether it ran out of stack, which the two tiers reach at different
    /// depths: such a run is inconclusive, not a divergence.
    pub fn overflowed(&self) -> bool {
        self.trap() == Some(Trap::StackOverflow)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Returned(values) => write!(f, "returned [{}]", list(values)),
            Outcome::Trapped { code, frames } => {
                write!(f, "trapped {code:?} in functions {frames:?}")
            }
            Outcome::Failed(msg) => write!(f, "failed: {msg}"),
            Outcome::Panicked(msg) => write!(f, "PANICKED: {msg}"),
        }
    }
}

/// Runs `f`, turning a panic into `Err` with its message.
pub fn guard<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(a panic without a message)".to_string())
    })
}

/// One tier's instance under test and its exports.
pub struct Side {
    /// `"interpreter"` or `"cranelift"`, for messages.
    pub tier: &'static str,
    /// The store the instance lives in.
    pub store: Store<()>,
    /// Exported functions: name, handle, and the handle's `Debug` text,
    /// which identifies the function within this store.
    funcs: Vec<(String, Func, String)>,
    memories: Vec<(String, Memory)>,
    globals: Vec<(String, Global)>,
    tables: Vec<(String, Table)>,
}

impl Side {
    /// Collects `instance`'s exports.
    pub fn new(tier: &'static str, mut store: Store<()>, instance: Instance) -> Side {
        let (mut funcs, mut memories, mut globals, mut tables) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for export in instance.exports(&mut store) {
            let name = export.name().to_string();
            match export.into_extern() {
                kiln::Extern::Func(f) => funcs.push((name, f, format!("{f:?}"))),
                kiln::Extern::Memory(m) => memories.push((name, m)),
                kiln::Extern::Global(g) => globals.push((name, g)),
                kiln::Extern::Table(t) => tables.push((name, t)),
            }
        }
        Side {
            tier,
            store,
            funcs,
            memories,
            globals,
            tables,
        }
    }

    /// A value of this store as a comparable [`Value`].
    pub fn value(&self, val: &Val) -> Value {
        match val {
            Val::FuncRef(Some(f)) => Value::FuncRef(Some(self.func_name(f))),
            other => arg_value(other),
        }
    }

    fn reference(&self, r: &Ref) -> Value {
        match r {
            Ref::Func(None) => Value::FuncRef(None),
            Ref::Func(Some(f)) => Value::FuncRef(Some(self.func_name(f))),
            Ref::Extern(e) => Value::ExternRef(e.is_some()),
        }
    }

    fn func_name(&self, f: &Func) -> String {
        let key = format!("{f:?}");
        self.funcs
            .iter()
            .find(|(_, _, k)| *k == key)
            .map(|(name, _, _)| name.clone())
            .unwrap_or_else(|| "?".to_string())
    }

    /// Calls export `name` with fuel `fuel`.
    pub fn call(&mut self, name: &str, args: &[Val], fuel: u64) -> Outcome {
        let Some((_, func, _)) = self.funcs.iter().find(|(n, _, _)| n == name) else {
            return Outcome::Failed(format!("no exported function {name:?}"));
        };
        let func = *func;
        let store = &mut self.store;
        let run = guard(|| {
            store.set_fuel(fuel)?;
            let ty = func.ty(&*store);
            let mut results = vec![Val::I32(0); ty.results().len()];
            func.call(&mut *store, args, &mut results)?;
            Ok(results)
        });
        match run {
            Ok(Ok(results)) => Outcome::Returned(results.iter().map(|v| self.value(v)).collect()),
            Ok(Err(err)) => Outcome::of_error(&err),
            Err(panic) => Outcome::Panicked(panic),
        }
    }

    /// The fuel left, or the error's message.
    pub fn fuel(&self) -> Result<u64, String> {
        self.store.get_fuel().map_err(|e| e.to_string())
    }
}

/// Compares what the host can see of two instances of the same module:
/// fuel left, every exported memory (size and bytes), global (value) and
/// table (size and elements). `Err` describes the first difference.
pub fn compare_state(a: &mut Side, b: &mut Side) -> Result<(), String> {
    let (fa, fb) = (a.fuel(), b.fuel());
    if fa != fb {
        return Err(format!("fuel left: {} {fa:?}, {} {fb:?}", a.tier, b.tier));
    }
    for ((name, ma), (_, mb)) in a.memories.iter().zip(&b.memories) {
        let (da, db) = (ma.data(&a.store), mb.data(&b.store));
        if da.len() != db.len() {
            return Err(format!(
                "memory {name:?} size: {} {} bytes, {} {} bytes",
                a.tier,
                da.len(),
                b.tier,
                db.len()
            ));
        }
        if da != db {
            let at = da.iter().zip(db).position(|(x, y)| x != y).unwrap_or(0);
            let end = (at + 8).min(da.len());
            let count = da.iter().zip(db).filter(|(x, y)| x != y).count();
            return Err(format!(
                "memory {name:?}: {count} bytes differ, the first at {at:#x}: {} {:02x?}, {} {:02x?}",
                a.tier,
                &da[at..end],
                b.tier,
                &db[at..end]
            ));
        }
    }
    for ((name, ga), (_, gb)) in a.globals.iter().zip(&b.globals) {
        let (va, vb) = (ga.get(&mut a.store), gb.get(&mut b.store));
        let (va, vb) = (a.value(&va), b.value(&vb));
        if va != vb {
            return Err(format!("global {name:?}: {} {va}, {} {vb}", a.tier, b.tier));
        }
    }
    for ((name, ta), (_, tb)) in a.tables.iter().zip(&b.tables) {
        let (sa, sb) = (ta.size(&a.store), tb.size(&b.store));
        if sa != sb {
            return Err(format!(
                "table {name:?} size: {} {sa}, {} {sb}",
                a.tier, b.tier
            ));
        }
        for i in 0..sa {
            let ra = ta.get(&mut a.store, i).map(|r| a.reference(&r));
            let rb = tb.get(&mut b.store, i).map(|r| b.reference(&r));
            if ra != rb {
                return Err(format!(
                    "table {name:?}[{i}]: {} {ra:?}, {} {rb:?}",
                    a.tier, b.tier
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln::{Config, Engine, Module, Strategy};

    /// An instance whose memory byte 5, global and table element 1 are
    /// set from the arguments, with 1,000 units of fuel minus `burn`.
    fn side(data: u8, global: i32, elem: bool, burn: u64) -> Side {
        let mut config = Config::new();
        config.strategy(Strategy::Interpreter).consume_fuel(true);
        let engine = Engine::new(&config).unwrap();
        let wat = format!(
            r#"(module
                 (memory (export "m") 1)
                 (data (i32.const 5) "\{data:02x}")
                 (global (export "g") (mut i32) (i32.const {global}))
                 (table (export "t") 2 funcref)
                 (elem (i32.const 1) func {elem})
                 (func $f (export "f") (param i32) (result i32 f32)
                   local.get 0
                   f32.const nan:0x1234)
                 (func (export "div") (param i32) (result i32)
                   (i32.div_s (i32.const 1) (local.get 0))))"#,
            elem = if elem { "$f" } else { "" },
        );
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        store.set_fuel(1000 - burn).unwrap();
        Side::new("t", store, instance)
    }

    #[test]
    fn equal_instances_compare_equal() {
        compare_state(&mut side(1, 2, true, 0), &mut side(1, 2, true, 0)).unwrap();
    }

    #[test]
    fn every_difference_is_reported() {
        let base = || side(1, 2, true, 0);
        let err = compare_state(&mut base(), &mut side(9, 2, true, 0)).unwrap_err();
        assert!(
            err.contains("memory \"m\": 1 bytes differ, the first at 0x5"),
            "{err}"
        );
        let err = compare_state(&mut base(), &mut side(1, 3, true, 0)).unwrap_err();
        assert!(err.contains("global \"g\""), "{err}");
        let err = compare_state(&mut base(), &mut side(1, 2, false, 0)).unwrap_err();
        assert!(err.contains("table \"t\"[1]"), "{err}");
        let err = compare_state(&mut base(), &mut side(1, 2, true, 1)).unwrap_err();
        assert!(err.contains("fuel left"), "{err}");
    }

    #[test]
    fn outcomes_keep_float_bits_and_trap_details() {
        let mut a = side(1, 2, true, 0);
        let out = a.call("f", &[Val::I32(-1)], 100);
        assert_eq!(
            out,
            Outcome::Returned(vec![Value::I32(-1), Value::F32(0x7f80_1234)])
        );
        assert_ne!(
            out,
            Outcome::Returned(vec![Value::I32(-1), Value::F32(0x7fc0_0000)])
        );
        let out = a.call("div", &[Val::I32(0)], 100);
        assert_eq!(
            out,
            Outcome::Trapped {
                code: Trap::IntegerDivisionByZero,
                frames: vec![1]
            }
        );
        let out = a.call("div", &[Val::I32(1)], 0);
        assert_eq!(out.trap(), Some(Trap::OutOfFuel));
        // Function references are named by their export.
        let t = a.tables[0].1;
        let r = t.get(&mut a.store, 1).unwrap();
        assert_eq!(a.reference(&r), Value::FuncRef(Some("f".to_string())));
    }
}
