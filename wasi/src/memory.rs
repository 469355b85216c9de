//! Bounds-checked access to the guest's linear memory.
//!
//! Every pointer and length a guest passes is untrusted: each access here
//! checks its whole range (with overflow-checked arithmetic) against the
//! memory's current size and fails with [`Errno::Fault`] instead of
//! panicking. Strings must be UTF-8 ([`Errno::Ilseq`] otherwise).

use crate::Errno;
use std::ops::Range;

/// The guest's memory, borrowed for the duration of one WASI call.
pub struct GuestMemory<'a> {
    bytes: &'a mut [u8],
}

impl<'a> GuestMemory<'a> {
    /// Wraps the memory's bytes.
    pub fn new(bytes: &'a mut [u8]) -> GuestMemory<'a> {
        GuestMemory { bytes }
    }

    /// The range `ptr..ptr + len`, if it lies inside the memory.
    pub fn range(&self, ptr: u32, len: u32) -> Result<Range<usize>, Errno> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(Errno::Fault)?;
        if end > self.bytes.len() {
            return Err(Errno::Fault);
        }
        Ok(start..end)
    }

    /// The range `ptr..ptr + count * size`, checking the multiplication.
    pub fn array_range(&self, ptr: u32, count: u32, size: u32) -> Result<Range<usize>, Errno> {
        let len = count.checked_mul(size).ok_or(Errno::Fault)?;
        self.range(ptr, len)
    }

    /// `len` bytes at `ptr`.
    pub fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let range = self.range(ptr, len)?;
        Ok(&self.bytes[range])
    }

    /// `len` bytes at `ptr`, writable.
    pub fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let range = self.range(ptr, len)?;
        Ok(&mut self.bytes[range])
    }

    /// A UTF-8 string of `len` bytes at `ptr`.
    pub fn str(&self, ptr: u32, len: u32) -> Result<&str, Errno> {
        std::str::from_utf8(self.slice(ptr, len)?).map_err(|_| Errno::Ilseq)
    }

    /// Checks that `len` bytes at `ptr` can be written (used before an
    /// operation with side effects, so a bad result pointer is reported
    /// before anything happens).
    pub fn check_writable(&self, ptr: u32, len: u32) -> Result<(), Errno> {
        self.range(ptr, len).map(|_| ())
    }

    /// Copies `data` to `ptr`.
    pub fn write(&mut self, ptr: u32, data: &[u8]) -> Result<(), Errno> {
        let len = u32::try_from(data.len()).map_err(|_| Errno::Fault)?;
        self.slice_mut(ptr, len)?.copy_from_slice(data);
        Ok(())
    }

    /// Reads `N` bytes at `ptr`.
    fn read_array<const N: usize>(&self, ptr: u32) -> Result<[u8; N], Errno> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.slice(ptr, N as u32)?);
        Ok(out)
    }

    /// The byte at `ptr`.
    pub fn read_u8(&self, ptr: u32) -> Result<u8, Errno> {
        Ok(self.read_array::<1>(ptr)?[0])
    }

    /// The little-endian `u16` at `ptr`.
    pub fn read_u16(&self, ptr: u32) -> Result<u16, Errno> {
        self.read_array(ptr).map(u16::from_le_bytes)
    }

    /// The little-endian `u32` at `ptr`.
    pub fn read_u32(&self, ptr: u32) -> Result<u32, Errno> {
        self.read_array(ptr).map(u32::from_le_bytes)
    }

    /// The little-endian `u64` at `ptr`.
    pub fn read_u64(&self, ptr: u32) -> Result<u64, Errno> {
        self.read_array(ptr).map(u64::from_le_bytes)
    }

    /// Writes a little-endian `u32` at `ptr`.
    pub fn write_u32(&mut self, ptr: u32, value: u32) -> Result<(), Errno> {
        self.write(ptr, &value.to_le_bytes())
    }

    /// Writes a little-endian `u64` at `ptr`.
    pub fn write_u64(&mut self, ptr: u32, value: u64) -> Result<(), Errno> {
        self.write(ptr, &value.to_le_bytes())
    }

    /// The `(buf, buf_len)` pairs of an array of `count` iovecs (or
    /// ciovecs) at `ptr`, each checked to lie inside the memory.
    pub fn iovecs(&self, ptr: u32, count: u32) -> Result<Vec<(u32, u32)>, Errno> {
        let range = self.array_range(ptr, count, crate::abi::size::IOVEC)?;
        self.bytes[range]
            .chunks_exact(8)
            .map(|chunk| {
                let buf = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                let len = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
                self.range(buf, len)?;
                Ok((buf, len))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_bounds_and_overflowing_ranges_are_faults() {
        let mut bytes = vec![0u8; 64];
        let mut mem = GuestMemory::new(&mut bytes);
        assert!(mem.slice(60, 4).is_ok());
        assert_eq!(mem.slice(61, 4), Err(Errno::Fault));
        assert_eq!(mem.slice(u32::MAX, u32::MAX), Err(Errno::Fault));
        assert_eq!(mem.array_range(0, u32::MAX, 8), Err(Errno::Fault));
        assert_eq!(mem.write_u64(60, 1), Err(Errno::Fault));
        mem.write_u32(0, 16).unwrap();
        mem.write_u32(4, 8).unwrap();
        assert_eq!(mem.iovecs(0, 1), Ok(vec![(16, 8)]));
        mem.write_u32(4, 100).unwrap();
        assert_eq!(mem.iovecs(0, 1), Err(Errno::Fault));
        mem.write(8, &[0xff, 0xfe]).unwrap();
        assert_eq!(mem.str(8, 2), Err(Errno::Ilseq));
        mem.write(8, b"ok").unwrap();
        assert_eq!(mem.str(8, 2), Ok("ok"));
    }
}
