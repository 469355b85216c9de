//! `FrameSymbol`: source-level information about a backtrace frame.
//!
//! wasmtime resolves a frame to function names, files and lines from the
//! module's DWARF debug information. Kiln does not read DWARF, so a frame
//! never has symbols: [`FrameInfo::symbols`] is always empty and no
//! `FrameSymbol` value can exist. The type is here so that code written
//! against wasmtime's backtraces compiles unchanged and takes the same path
//! it takes for a module without debug information.

use crate::FrameInfo;
use std::convert::Infallible;

/// A source location of a backtrace frame, from DWARF. Kiln reads no DWARF,
/// so there are no values of this type (see [`FrameInfo::symbols`]).
#[derive(Debug, Clone)]
pub struct FrameSymbol {
    never: Infallible,
}

impl FrameSymbol {
    /// The function's name in the source.
    pub fn name(&self) -> Option<&str> {
        match self.never {}
    }

    /// The source file.
    pub fn file(&self) -> Option<&str> {
        match self.never {}
    }

    /// The line in the source file.
    pub fn line(&self) -> Option<u32> {
        match self.never {}
    }

    /// The column in the line.
    pub fn column(&self) -> Option<u32> {
        match self.never {}
    }
}

impl FrameInfo {
    /// The frame's source locations from the module's DWARF: always empty,
    /// as Kiln does not read DWARF (wasmtime too gives none for a module
    /// without debug information).
    pub fn symbols(&self) -> &[FrameSymbol] {
        &[]
    }
}
