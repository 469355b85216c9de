//! The type vocabulary of the API: value, function, global, table, memory
//! and extern types, the engine's function type registry, and the import
//! matching rules.

mod entity;
mod extern_type;
mod func_type;
pub(crate) mod matching;
pub(crate) mod registry;
mod val_type;

pub use entity::{GlobalType, MemoryType, Mutability, TableType};
pub use extern_type::{ExportType, ExternType, ImportType};
pub use func_type::FuncType;
pub use val_type::{HeapType, RefType, ValType};
