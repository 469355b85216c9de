//! `SegmentPlan`: what instantiating a module does with its element and
//! data segments, decided once when the module is created.
//!
//! Instantiation then only loops over the active segments: resolve the
//! offset (a constant already, unless the expression reads a global, which
//! can differ per instance), check bounds, copy. Nothing is re-read from
//! the binary or re-evaluated per instance that does not depend on the
//! instance. The plan also tells the memory allocator how much of each
//! defined memory the data segments write ([`MemoryInitHint`]).
//!
//! When every active data segment has a constant offset and fits the
//! initial size of a memory the module defines, the data phase of
//! instantiation cannot trap, and its outcome is fixed: the plan then
//! merges the segments into [`DataChunk`]s — runs of memory bytes separated
//! by more than [`MERGE_GAP`] zero bytes, whose contents (the segments
//! applied in order, zeroes between them) are precomputed — so that
//! instantiation makes a few large copies instead of one per segment.
//! (Toolchains such as Go's emit tens of thousands of tiny segments
//! separated by short runs of zeroes.) The gaps a chunk covers are zero in
//! the fresh memory anyway.

use super::info::{ConstExpr, DataKind, ElemKind, ModuleInfo};
use super::parse::data_segments;
use crate::runtime::memory_buffer::MemoryInitHint;
use kiln_vm::WASM_PAGE_SIZE;
use std::ops::Range;

/// The page granularity of [`MemoryInitHint`]s: the common host page size.
const HINT_PAGE: u64 = 4096;

/// Segments closer than this many bytes are merged into one [`DataChunk`]:
/// copying a short run of zeroes costs less than starting another copy.
pub(crate) const MERGE_GAP: u64 = 64;

/// A segment offset.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Offset {
    /// Known when the module is created (`i32.const`).
    Const(u64),
    /// Evaluated per instance (it reads a global).
    Eval(ConstExpr),
}

impl Offset {
    fn new(expr: &ConstExpr) -> Offset {
        match *expr {
            ConstExpr::I32(value) => Offset::Const(u64::from(value as u32)),
            other => Offset::Eval(other),
        }
    }
}

/// A passive data segment, kept for `memory.init`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PassiveData {
    /// The segment's index (for its `VMDataSegment`).
    pub(crate) index: u32,
    /// Its contents in the module binary.
    pub(crate) range: Range<usize>,
}

/// An active data segment, copied into its memory at instantiation.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ActiveData {
    /// The segment's index (for its `VMDataSegment`).
    pub(crate) index: u32,
    /// The memory it initialises.
    pub(crate) memory: u32,
    /// Where in the memory.
    pub(crate) offset: Offset,
    /// The first byte of its contents in the module binary.
    pub(crate) start: usize,
    /// Its length in bytes.
    pub(crate) len: usize,
}

/// Where a [`DataChunk`]'s bytes come from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum ChunkSource {
    /// The module binary, from this offset (a chunk of one segment).
    Module(usize),
    /// The plan's merged image, from this offset.
    Image(usize),
}

/// Bytes copied into a defined memory at instantiation: one or more data
/// segments merged (see the module docs).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct DataChunk {
    /// The memory (always one the module defines).
    pub(crate) memory: u32,
    /// Where in the memory; `offset + len` is within its initial size.
    pub(crate) offset: usize,
    /// Where the bytes are.
    pub(crate) source: ChunkSource,
    /// How many.
    pub(crate) len: usize,
}

/// The whole data phase of instantiation, when it cannot trap.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct DataChunks {
    /// The chunks, in any order (they do not overlap).
    pub(crate) chunks: Box<[DataChunk]>,
    /// The contents of the chunks merged from several segments.
    pub(crate) image: Box<[u8]>,
}

impl DataChunks {
    /// The bytes of `chunk` (one of `self.chunks`), given the module
    /// binary.
    pub(crate) fn bytes<'a>(&'a self, chunk: &DataChunk, module: &'a [u8]) -> &'a [u8] {
        match chunk.source {
            ChunkSource::Module(start) => &module[start..start + chunk.len],
            ChunkSource::Image(start) => &self.image[start..start + chunk.len],
        }
    }
}

/// An element segment's items.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ElemItems {
    /// Every item is a `ref.func` of these functions (the common case,
    /// written without evaluating expressions).
    Funcs(Box<[u32]>),
    /// Any other constant expressions.
    Exprs(Box<[ConstExpr]>),
}

impl ElemItems {
    /// The number of items.
    pub(crate) fn len(&self) -> usize {
        match self {
            ElemItems::Funcs(funcs) => funcs.len(),
            ElemItems::Exprs(exprs) => exprs.len(),
        }
    }
}

/// How an element segment is used at instantiation.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ElemInit {
    /// Kept for `table.init`: evaluated into the instance.
    Passive,
    /// Dropped at once: nothing to do.
    Declared,
    /// Written into `table` at `offset`, then dropped.
    Active { table: u32, offset: Offset },
}

/// An element segment, as instantiation uses it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ElemPlan {
    /// Its use.
    pub(crate) init: ElemInit,
    /// Its items.
    pub(crate) items: ElemItems,
}

/// A module's segments, as instantiation uses them.
#[derive(Debug, Default)]
pub(crate) struct SegmentPlan {
    /// Active data segments, in order.
    pub(crate) active_data: Box<[ActiveData]>,
    /// The active data segments merged, if applying them can never trap
    /// (then instantiation copies these instead of `active_data`).
    pub(crate) data_chunks: Option<DataChunks>,
    /// The passive data segments (the only ones whose `VMDataSegment` a
    /// successful instantiation writes: an active one is dropped by
    /// instantiation, and a dropped segment's descriptor is the block's
    /// initial zero).
    pub(crate) passive_data: Box<[PassiveData]>,
    /// Why the data section could not be read, if it could not (never, for
    /// a module the validator accepted; instantiation reports it).
    pub(crate) data_error: Option<String>,
    /// Every element segment, in order.
    pub(crate) elems: Box<[ElemPlan]>,
    /// For every memory (imports first), what the data segments with
    /// constant offsets write into it at instantiation.
    pub(crate) memory_hints: Box<[MemoryInitHint]>,
}

impl SegmentPlan {
    /// The plan for the module of `info`, whose binary is `bytes`. Reads
    /// the data section, which `Module::new` only located.
    pub(crate) fn new(info: &ModuleInfo, bytes: &[u8]) -> SegmentPlan {
        let (data, data_error) = match info.data_section.clone() {
            None => (Vec::new(), None),
            Some(section) => match data_segments(bytes, section) {
                Ok(data) => (data, None),
                Err(e) => (Vec::new(), Some(format!("{e:#}"))),
            },
        };
        let mut active_data = Vec::new();
        let mut passive_data = Vec::new();
        for (index, segment) in data.into_iter().enumerate() {
            let index = index as u32;
            match &segment.kind {
                DataKind::Passive => passive_data.push(PassiveData {
                    index,
                    range: segment.range,
                }),
                DataKind::Active { memory, offset } => active_data.push(ActiveData {
                    index,
                    memory: *memory,
                    offset: Offset::new(offset),
                    start: segment.range.start,
                    len: segment.range.len(),
                }),
            }
        }
        let elems = info
            .elems
            .iter()
            .map(|segment| ElemPlan {
                init: match &segment.kind {
                    ElemKind::Passive => ElemInit::Passive,
                    ElemKind::Declared => ElemInit::Declared,
                    ElemKind::Active { table, offset } => ElemInit::Active {
                        table: *table,
                        offset: Offset::new(offset),
                    },
                },
                items: elem_items(&segment.items),
            })
            .collect();
        let memory_hints = memory_hints(info, &active_data);
        let data_chunks = data_chunks(info, &active_data, bytes);
        SegmentPlan {
            active_data: active_data.into(),
            data_chunks,
            passive_data: passive_data.into(),
            data_error,
            elems,
            memory_hints,
        }
    }
}

/// The chunks `active_data` merge into, if they all have constant offsets
/// within the initial size of a defined memory.
fn data_chunks(info: &ModuleInfo, active_data: &[ActiveData], bytes: &[u8]) -> Option<DataChunks> {
    // (memory, start, end) of every non-empty segment, in memory order.
    let mut ranges = Vec::with_capacity(active_data.len());
    for segment in active_data {
        let Offset::Const(offset) = segment.offset else {
            return None;
        };
        if segment.memory < info.num_imported_memories {
            return None;
        }
        let initial = info
            .memories
            .get(segment.memory as usize)?
            .minimum()
            .saturating_mul(WASM_PAGE_SIZE);
        let end = offset.checked_add(segment.len as u64)?;
        if end > initial {
            return None;
        }
        if segment.len > 0 {
            ranges.push((segment.memory, offset, end));
        }
    }
    ranges.sort_unstable();

    // Merge ranges that overlap or are at most `MERGE_GAP` apart, counting
    // the segments of each.
    let mut merged: Vec<(u32, u64, u64, usize)> = Vec::new();
    for (memory, start, end) in ranges {
        match merged.last_mut() {
            Some((m, _, last_end, count)) if *m == memory && start <= *last_end + MERGE_GAP => {
                *last_end = (*last_end).max(end);
                *count += 1;
            }
            _ => merged.push((memory, start, end, 1)),
        }
    }

    // Chunks of one segment copy from the binary; the others get a place in
    // the image, filled by applying their segments in order.
    let mut chunks = Vec::with_capacity(merged.len());
    let mut image_len = 0usize;
    for &(memory, start, end, count) in &merged {
        let len = usize::try_from(end - start).ok()?;
        let source = if count == 1 {
            // Filled in below, once the segment is found.
            ChunkSource::Module(usize::MAX)
        } else {
            image_len += len;
            ChunkSource::Image(image_len - len)
        };
        chunks.push(DataChunk {
            memory,
            offset: usize::try_from(start).ok()?,
            source,
            len,
        });
    }
    let mut image = vec![0u8; image_len].into_boxed_slice();
    for segment in active_data.iter().filter(|segment| segment.len > 0) {
        let Offset::Const(offset) = segment.offset else {
            return None;
        };
        let offset = usize::try_from(offset).ok()?;
        // The chunk containing the segment: the last starting at or before
        // it in the same memory.
        let at = chunks.partition_point(|c| (c.memory, c.offset) <= (segment.memory, offset));
        let chunk = &mut chunks[at.checked_sub(1)?];
        let contents = &bytes[segment.start..segment.start + segment.len];
        match &mut chunk.source {
            ChunkSource::Module(start) => *start = segment.start,
            ChunkSource::Image(start) => {
                let at = *start + (offset - chunk.offset);
                image[at..at + segment.len].copy_from_slice(contents);
            }
        }
    }
    Some(DataChunks {
        chunks: chunks.into(),
        image,
    })
}

/// `items` as function indices if they are all `ref.func`.
fn elem_items(items: &[ConstExpr]) -> ElemItems {
    let funcs: Option<Box<[u32]>> = items
        .iter()
        .map(|item| match *item {
            ConstExpr::RefFunc(index) => Some(index),
            _ => None,
        })
        .collect();
    match funcs {
        Some(funcs) => ElemItems::Funcs(funcs),
        None => ElemItems::Exprs(items.into()),
    }
}

/// The pages of each defined memory that its constant-offset active data
/// segments write (those that fit its initial size; one that does not makes
/// instantiation trap anyway).
fn memory_hints(info: &ModuleInfo, active_data: &[ActiveData]) -> Box<[MemoryInitHint]> {
    let mut pages: Vec<Vec<(u64, u64)>> = vec![Vec::new(); info.memories.len()];
    for segment in active_data {
        let (Offset::Const(offset), Some(ty)) =
            (segment.offset, info.memories.get(segment.memory as usize))
        else {
            continue;
        };
        let end = offset + segment.len as u64;
        let initial = ty.minimum().saturating_mul(WASM_PAGE_SIZE);
        if segment.memory < info.num_imported_memories || segment.len == 0 || end > initial {
            continue;
        }
        let first = offset / HINT_PAGE * HINT_PAGE;
        let last = end.div_ceil(HINT_PAGE) * HINT_PAGE;
        pages[segment.memory as usize].push((first, last));
    }
    pages
        .into_iter()
        .map(|mut ranges| {
            ranges.sort_unstable();
            let (mut touched, mut extent) = (0u64, 0u64);
            // `extent` is also the end of the ranges counted so far.
            for (start, end) in ranges {
                let start = start.max(extent);
                if end > start {
                    touched += end - start;
                    extent = end;
                }
            }
            let to_usize = |bytes: u64| usize::try_from(bytes).unwrap_or(usize::MAX);
            MemoryInitHint {
                touched: to_usize(touched),
                extent: to_usize(extent),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::module::parse::parse_wat_keeping_bytes;

    fn plan_of(text: &str) -> (SegmentPlan, Vec<u8>) {
        let (parsed, bytes) = parse_wat_keeping_bytes(text).unwrap();
        (SegmentPlan::new(&parsed.info, &bytes), bytes)
    }

    #[test]
    fn constant_offsets_are_evaluated_once_and_global_ones_kept() {
        let (plan, bytes) = plan_of(
            r#"(module
                (import "env" "base" (global $base i32))
                (import "env" "mem" (memory 1))
                (data (global.get $base) "imp")
                (data "passive")
                (data (i32.const -1) "")
                (data (i32.const 7) "seven"))"#,
        );
        assert_eq!(plan.passive_data.len(), 1);
        assert_eq!(plan.passive_data[0].index, 1);
        assert_eq!(&bytes[plan.passive_data[0].range.clone()], b"passive");
        let data = &plan.active_data;
        assert_eq!(data.len(), 3);
        assert_eq!(
            (data[0].index, data[0].memory, data[0].offset),
            (0, 0, Offset::Eval(ConstExpr::GlobalGet(0)))
        );
        assert_eq!(&bytes[data[0].start..][..data[0].len], b"imp");
        // Offsets are unsigned.
        assert_eq!(data[1].offset, Offset::Const(u64::from(u32::MAX)));
        assert_eq!(data[1].len, 0);
        assert_eq!((data[2].index, data[2].offset), (3, Offset::Const(7)));
        assert_eq!(&bytes[data[2].start..][..data[2].len], b"seven");
        // An imported memory gets no hint.
        assert_eq!(&*plan.memory_hints, &[MemoryInitHint::default()]);

        let (plan, bytes) = plan_of(r#"(module (memory 2) (data (i32.const 70000) "defined"))"#);
        let data = &plan.active_data;
        assert_eq!((data[0].index, data[0].memory), (0, 0));
        assert_eq!(data[0].offset, Offset::Const(70_000));
        assert_eq!(&bytes[data[0].start..][..data[0].len], b"defined");
        // Written in one host page (69632..73728).
        assert_eq!(
            plan.memory_hints[0],
            MemoryInitHint {
                touched: 4096,
                extent: 73_728
            }
        );
    }

    #[test]
    fn hints_merge_overlapping_pages_and_skip_segments_out_of_bounds() {
        let (plan, _) = plan_of(
            r#"(module
                (memory 1)
                (data (i32.const 10) "a")
                (data (i32.const 4000) "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
                (data (i32.const 20000) "c")
                (data (i32.const 65535) "too long"))"#,
        );
        // Pages 0, 1 (the second segment crosses into it) and 4.
        assert_eq!(
            plan.memory_hints[0],
            MemoryInitHint {
                touched: 3 * 4096,
                extent: 5 * 4096
            }
        );
    }

    #[test]
    fn element_segments_keep_their_kind_and_items() {
        let (plan, _) = plan_of(
            r#"(module
                (import "env" "g" (global $g i32))
                (table 10 funcref)
                (func $a) (func $b)
                (elem (i32.const 1) $a $b)
                (elem (global.get $g) funcref (ref.func $b) (ref.null func))
                (elem func $b)
                (elem declare func $a))"#,
        );
        let elems = &plan.elems;
        assert_eq!(
            elems[0],
            ElemPlan {
                init: ElemInit::Active {
                    table: 0,
                    offset: Offset::Const(1)
                },
                items: ElemItems::Funcs(vec![0, 1].into())
            }
        );
        assert_eq!(
            elems[1].init,
            ElemInit::Active {
                table: 0,
                offset: Offset::Eval(ConstExpr::GlobalGet(0))
            }
        );
        assert_eq!(
            elems[1].items,
            ElemItems::Exprs(vec![ConstExpr::RefFunc(1), ConstExpr::RefNull].into())
        );
        assert_eq!(elems[1].items.len(), 2);
        assert_eq!(elems[2].init, ElemInit::Passive);
        assert_eq!(elems[3].init, ElemInit::Declared);
        assert!(plan.passive_data.is_empty() && plan.active_data.is_empty());
    }

    #[test]
    fn nearby_segments_merge_into_chunks_applied_in_order() {
        let (plan, bytes) = plan_of(
            r#"(module
                (memory 2)
                (data (i32.const 100) "abc")
                (data (i32.const 90) "xy")
                (data (i32.const 101) "B")
                (data (i32.const 1000) "far")
                (data (i32.const 70000) "")
                (data (i32.const 65600) "next page"))"#,
        );
        let data = plan.data_chunks.as_ref().unwrap();
        let chunks: Vec<_> = data
            .chunks
            .iter()
            .map(|c| (c.memory, c.offset, data.bytes(c, &bytes).to_vec()))
            .collect();
        let mut merged = vec![0u8; 13];
        merged[..2].copy_from_slice(b"xy");
        merged[10..].copy_from_slice(b"aBc");
        assert_eq!(
            chunks,
            [
                (0, 90, merged),
                (0, 1000, b"far".to_vec()),
                (0, 65_600, b"next page".to_vec()),
            ]
        );
        // Single segments are copied from the binary, not the image.
        assert!(matches!(data.chunks[1].source, ChunkSource::Module(_)));
        assert_eq!(data.image.len(), 13);
    }

    #[test]
    fn segments_that_may_trap_or_depend_on_imports_are_not_merged() {
        for text in [
            // Out of bounds: instantiation must trap after earlier writes.
            r#"(module (memory 1) (data (i32.const 0) "a") (data (i32.const 65536) "b"))"#,
            // Offset from an imported global.
            r#"(module (import "env" "g" (global i32)) (memory 1) (data (global.get 0) "a"))"#,
            // Imported memory: its size is only known per instance.
            r#"(module (import "env" "m" (memory 1)) (data (i32.const 0) "a"))"#,
        ] {
            let (plan, _) = plan_of(text);
            assert!(plan.data_chunks.is_none(), "{text}");
            assert!(!plan.active_data.is_empty());
        }
        // No active segments at all: nothing to copy.
        let (plan, _) = plan_of(r#"(module (memory 1) (data "passive"))"#);
        assert_eq!(plan.data_chunks, Some(DataChunks::default()));
    }
}
