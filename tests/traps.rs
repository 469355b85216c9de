//! Every trap kind comes back as an `Err` that downcasts to `kiln::Trap`,
//! displays as `wasm trap: ...`, and carries a wasm backtrace.

use kiln::{Config, Engine, Instance, Module, Store, Trap};

const TRAPS: &str = r#"(module $traps
  (type $v (func))
  (memory 1)
  (table 2 funcref)
  (elem (i32.const 0) $nop)
  (func $nop)
  (func (export "unreachable") unreachable)
  (func (export "oob_load") (result i32) i32.const 65534 i32.load)
  (func (export "oob_store") i32.const 65536 i32.const 0 i32.store8)
  (func (export "div_zero") (result i32) i32.const 1 i32.const 0 i32.div_u)
  (func (export "overflow") (result i32) i32.const 0x80000000 i32.const -1 i32.div_s)
  (func (export "bad_conversion") (result i32) f32.const nan i32.trunc_f32_s)
  (func (export "call_null") i32.const 1 call_indirect (type $v))
  (func (export "call_oob") i32.const 5 call_indirect (type $v))
  (func (export "bad_sig") (result i32) i32.const 0 call_indirect (result i32))
  (func (export "table_oob") (result funcref) i32.const 9 table.get 0)
  (func (export "fill_oob") i32.const 65000 i32.const 0 i32.const 1000 memory.fill)
  (func $inner (export "nested") (call $middle))
  (func $middle unreachable)
)"#;

fn trap_of(name: &str) -> (Trap, String) {
    let engine = Engine::default();
    let module = Module::new(&engine, TRAPS).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let func = instance.get_func(&mut store, name).unwrap();
    let mut results = vec![kiln::Val::I32(0); func.ty(&store).results().len()];
    let err = func.call(&mut store, &[], &mut results).unwrap_err();
    let trap = *err
        .downcast_ref::<Trap>()
        .unwrap_or_else(|| panic!("{name}: not a trap: {err:?}"));
    (trap, format!("{err:?}"))
}

#[test]
fn each_trap_kind_downcasts_to_its_code() {
    let cases = [
        ("unreachable", Trap::UnreachableCodeReached),
        ("oob_load", Trap::MemoryOutOfBounds),
        ("oob_store", Trap::MemoryOutOfBounds),
        ("div_zero", Trap::IntegerDivisionByZero),
        ("overflow", Trap::IntegerOverflow),
        ("bad_conversion", Trap::BadConversionToInteger),
        ("call_null", Trap::IndirectCallToNull),
        ("call_oob", Trap::TableOutOfBounds),
        ("bad_sig", Trap::BadSignature),
        ("table_oob", Trap::TableOutOfBounds),
        ("fill_oob", Trap::MemoryOutOfBounds),
    ];
    for (name, expected) in cases {
        assert_eq!(trap_of(name).0, expected, "{name}");
    }
}

#[test]
fn trap_displays_with_prefix_and_backtrace() {
    let engine = Engine::default();
    let module = Module::new(&engine, TRAPS).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let nested = instance
        .get_typed_func::<(), ()>(&mut store, "nested")
        .unwrap();
    let err = nested.call(&mut store, ()).unwrap_err();
    let root = err.root_cause().to_string();
    assert!(root.starts_with("wasm trap: "), "{root}");
    let full = format!("{err:?}");
    // Innermost frame first, with names from the name section.
    let middle = full
        .find("middle")
        .unwrap_or_else(|| panic!("no $middle in {full}"));
    let inner = full
        .find("inner")
        .unwrap_or_else(|| panic!("no $inner in {full}"));
    assert!(middle < inner, "{full}");
}

#[test]
fn million_deep_recursion_is_a_stack_overflow_trap() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (func $down (export "down") (param i64) (result i64)
               local.get 0 i64.eqz
               if (result i64) i64.const 0
               else local.get 0 i64.const 1 i64.sub call $down i64.const 1 i64.add end))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let down = instance.get_typed_func::<i64, i64>(&mut store, "down")?;
    // Shallow recursion works...
    assert_eq!(down.call(&mut store, 1000)?, 1000);
    // ...a million frames exhaust the stack and trap, without crashing the host.
    let err = down.call(&mut store, 1_000_000).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
    // The store stays usable after the trap.
    assert_eq!(down.call(&mut store, 10)?, 10);
    Ok(())
}

#[test]
fn max_wasm_stack_bounds_recursion_depth() -> kiln::Result<()> {
    let wat = r#"(module (func $f (export "f") (param i32) (result i32)
                   local.get 0 i32.eqz if (result i32) i32.const 0
                   else local.get 0 i32.const 1 i32.sub call $f end))"#;
    let mut small = Config::new();
    small.max_wasm_stack(64 * 1024);
    let mut large = Config::new();
    large.max_wasm_stack(8 << 20);
    let depth = 20_000;
    let mut outcomes = Vec::new();
    for config in [small, large] {
        let engine = Engine::new(&config)?;
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let f = instance.get_typed_func::<i32, i32>(&mut store, "f")?;
        outcomes.push(f.call(&mut store, depth).is_ok());
    }
    assert_eq!(outcomes, [false, true]);
    Ok(())
}
