//! Types of globals, tables and memories.

use super::{RefType, ValType};
use anyhow::{Result, bail};
use std::fmt;

/// Whether a global can be written after it is created.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Immutable (`global.set` is invalid, `Global::set` fails).
    Const,
    /// Mutable.
    Var,
}

impl Mutability {
    /// Whether this is [`Mutability::Const`].
    pub fn is_const(&self) -> bool {
        *self == Mutability::Const
    }

    /// Whether this is [`Mutability::Var`].
    pub fn is_var(&self) -> bool {
        *self == Mutability::Var
    }
}

/// The type of a global: its value type and mutability.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GlobalType {
    content: ValType,
    mutability: Mutability,
}

impl GlobalType {
    /// A global holding `content` values.
    pub fn new(content: ValType, mutability: Mutability) -> GlobalType {
        GlobalType {
            content,
            mutability,
        }
    }

    /// The type of the value the global holds.
    pub fn content(&self) -> &ValType {
        &self.content
    }

    /// Whether the global is mutable.
    pub fn mutability(&self) -> Mutability {
        self.mutability
    }

    /// Converts a global type read by wasmparser.
    pub(crate) fn from_wasmparser(ty: wasmparser::GlobalType) -> Result<GlobalType> {
        if ty.shared {
            bail!("shared globals are not supported");
        }
        let mutability = if ty.mutable {
            Mutability::Var
        } else {
            Mutability::Const
        };
        Ok(GlobalType {
            content: ValType::from_wasmparser(ty.content_type)?,
            mutability,
        })
    }
}

impl fmt::Display for GlobalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mutability {
            Mutability::Const => write!(f, "{}", self.content),
            Mutability::Var => write!(f, "(mut {})", self.content),
        }
    }
}

/// The type of a table: its element type and size limits (in elements).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableType {
    element: RefType,
    minimum: u64,
    maximum: Option<u64>,
}

impl TableType {
    /// A table of `element` references with at least `min` and at most
    /// `max` elements.
    pub fn new(element: RefType, min: u32, max: Option<u32>) -> TableType {
        TableType {
            element,
            minimum: min.into(),
            maximum: max.map(Into::into),
        }
    }

    /// The type of the table's elements.
    pub fn element(&self) -> &RefType {
        &self.element
    }

    /// The initial (minimum) number of elements.
    pub fn minimum(&self) -> u64 {
        self.minimum
    }

    /// The maximum number of elements, if bounded.
    pub fn maximum(&self) -> Option<u64> {
        self.maximum
    }

    /// Whether the table is indexed with 64-bit indices (the memory64
    /// proposal's `table64`): never in Kiln, which refuses such tables.
    pub fn is_64(&self) -> bool {
        false
    }

    /// Converts a table type read by wasmparser.
    pub(crate) fn from_wasmparser(ty: wasmparser::TableType) -> Result<TableType> {
        if ty.table64 {
            bail!("64-bit tables are not supported");
        }
        if ty.shared {
            bail!("shared tables are not supported");
        }
        Ok(TableType {
            element: RefType::from_wasmparser(ty.element_type)?,
            minimum: ty.initial,
            maximum: ty.maximum,
        })
    }
}

impl fmt::Display for TableType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(table {}", self.minimum)?;
        if let Some(max) = self.maximum {
            write!(f, " {max}")?;
        }
        write!(f, " {})", self.element)
    }
}

/// The type of a linear memory: its size limits in 64 KiB pages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MemoryType {
    minimum: u64,
    maximum: Option<u64>,
}

impl MemoryType {
    /// A 32-bit memory of at least `minimum` and at most `maximum` pages.
    pub fn new(minimum: u32, maximum: Option<u32>) -> MemoryType {
        MemoryType {
            minimum: minimum.into(),
            maximum: maximum.map(Into::into),
        }
    }

    /// The initial (minimum) size in pages.
    pub fn minimum(&self) -> u64 {
        self.minimum
    }

    /// The maximum size in pages, if bounded.
    pub fn maximum(&self) -> Option<u64> {
        self.maximum
    }

    /// Whether this is a 64-bit memory (never, in Kiln today).
    pub fn is_64(&self) -> bool {
        false
    }

    /// Whether this is a shared memory (never, in Kiln today).
    pub fn is_shared(&self) -> bool {
        false
    }

    /// The page size in bytes.
    pub fn page_size(&self) -> u64 {
        kiln_vm::WASM_PAGE_SIZE
    }

    /// The base-2 logarithm of [`MemoryType::page_size`]: 16 (64 KiB pages;
    /// Kiln has no custom page sizes).
    pub fn page_size_log2(&self) -> u8 {
        kiln_vm::WASM_PAGE_SIZE.trailing_zeros() as u8
    }

    /// Converts a memory type read by wasmparser.
    pub(crate) fn from_wasmparser(ty: wasmparser::MemoryType) -> Result<MemoryType> {
        if ty.memory64 {
            bail!("64-bit memories are not supported");
        }
        if ty.shared {
            bail!("shared memories are not supported");
        }
        if ty.page_size_log2.is_some_and(|log2| log2 != 16) {
            bail!("custom page sizes are not supported");
        }
        Ok(MemoryType {
            minimum: ty.initial,
            maximum: ty.maximum,
        })
    }
}

impl fmt::Display for MemoryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(memory {}", self.minimum)?;
        if let Some(max) = self.maximum {
            write!(f, " {max}")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_and_display() {
        let g = GlobalType::new(ValType::I64, Mutability::Var);
        assert_eq!(g.content(), &ValType::I64);
        assert!(g.mutability().is_var());
        assert_eq!(g.to_string(), "(mut i64)");

        let t = TableType::new(RefType::FUNCREF, 10, Some(20));
        assert_eq!((t.minimum(), t.maximum()), (10, Some(20)));
        assert_eq!(t.to_string(), "(table 10 20 funcref)");

        let m = MemoryType::new(1, None);
        assert_eq!((m.minimum(), m.maximum()), (1, None));
        assert_eq!(m.to_string(), "(memory 1)");
    }
}
