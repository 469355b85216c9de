//! Prints the Kiln bytecode of every function in a module, for studying what
//! the translator emits: `cargo run -p kiln-interp --example dump_bytecode -- FILE.wasm [FUNC]`.

use kiln_interp::ModuleTypes;
use kiln_interp::translate::translate_function;
use wasmparser::{Parser, Payload, TypeRef, Validator, WasmFeatures};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: dump_bytecode FILE.wasm [FUNC]"))?;
    let only: Option<u32> = args.next().map(|s| s.parse()).transpose()?;
    let bytes = std::fs::read(&path)?;
    let mut validator = Validator::new_with_features(WasmFeatures::WASM2);
    let mut types = ModuleTypes::default();
    let mut func_index = 0;
    for payload in Parser::new(0).parse_all(&bytes) {
        let payload = payload?;
        match &payload {
            Payload::TypeSection(reader) => {
                for ty in reader.clone().into_iter_err_on_gc_types() {
                    types.types.push(ty?);
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.clone().into_imports() {
                    if let TypeRef::Func(t) = import?.ty {
                        types.funcs.push(t);
                        types.num_imported_funcs += 1;
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader.clone() {
                    types.funcs.push(t?);
                }
                func_index = types.num_imported_funcs;
            }
            _ => {}
        }
        if let wasmparser::ValidPayload::Func(to_validate, body) = validator.payload(&payload)? {
            let mut func_validator = to_validate.into_validator(Default::default());
            let compiled =
                translate_function(&types, func_index, &body, Some(&mut func_validator))?;
            if only.is_none_or(|f| f == func_index) {
                println!(
                    "func {func_index}: params {} results {} locals {} frame {}",
                    compiled.num_params,
                    compiled.num_results,
                    compiled.num_locals,
                    compiled.frame_size
                );
                for (pc, op) in compiled.ops().enumerate() {
                    println!("  {pc:4}: {op:?}");
                }
            }
            func_index += 1;
        }
    }
    Ok(())
}
