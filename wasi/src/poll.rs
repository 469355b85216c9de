//! `poll_oneoff`: wait for clocks and descriptors.
//!
//! Files, directories, memory pipes, a null stdin and every output are
//! always ready, as POSIX `poll` treats regular files; only an inherited
//! stdin can make the guest wait for data, and it is polled on the host.
//! Clock subscriptions (relative or absolute, on the realtime or monotonic
//! clock) become deadlines on the host's monotonic clock. The call returns
//! as soon as at least one subscription has an event, reporting every
//! subscription that is ready at that moment.

use crate::abi::{clockid, eventrwflags, eventtype, size, subclockflags};
use crate::memory::GuestMemory;
use crate::preview1::{Result, clock_now};
use crate::snapshot::Snapshot;
use crate::stdio::InputStream;
use crate::table::Object;
use crate::{Errno, WasiCtx};
use std::io::Seek;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// An event to report.
struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
    flags: u16,
}

impl Event {
    fn to_bytes(&self) -> [u8; size::EVENT as usize] {
        let mut out = [0u8; size::EVENT as usize];
        out[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        out[8..10].copy_from_slice(&(self.error as u16).to_le_bytes());
        out[10] = self.kind;
        out[16..24].copy_from_slice(&self.nbytes.to_le_bytes());
        out[24..26].copy_from_slice(&self.flags.to_le_bytes());
        out
    }

    fn error(userdata: u64, kind: u8, error: Errno) -> Event {
        Event {
            userdata,
            error,
            kind,
            nbytes: 0,
            flags: 0,
        }
    }

    fn ready(userdata: u64, kind: u8, nbytes: u64, flags: u16) -> Event {
        Event {
            userdata,
            error: Errno::Success,
            kind,
            nbytes,
            flags,
        }
    }
}

/// A clock subscription still waiting; `None` is a deadline too far away
/// to represent (never reached).
struct Timer {
    userdata: u64,
    deadline: Option<Instant>,
}

impl WasiCtx {
    pub(crate) fn poll_oneoff(
        &mut self,
        mem: &mut GuestMemory<'_>,
        subs_ptr: u32,
        events_ptr: u32,
        nsubscriptions: u32,
        nevents_ptr: u32,
        snap: Snapshot,
    ) -> Result {
        if nsubscriptions == 0 {
            return Err(Errno::Inval);
        }
        mem.array_range(subs_ptr, nsubscriptions, snap.subscription_size())?;
        mem.array_range(events_ptr, nsubscriptions, size::EVENT)?;
        mem.check_writable(nevents_ptr, 4)?;

        let mut events = Vec::new();
        let mut timers = Vec::new();
        // Subscriptions to data on the inherited stdin: userdata.
        let mut stdin_waits = Vec::new();
        for i in 0..nsubscriptions {
            let base = subs_ptr + i * snap.subscription_size();
            let clock = snap.clock_fields();
            let userdata = mem.read_u64(base)?;
            let tag = mem.read_u8(base + 8)?;
            match tag {
                eventtype::CLOCK => {
                    let id = mem.read_u32(base + clock.id)?;
                    let timeout = mem.read_u64(base + clock.timeout)?;
                    let flags = mem.read_u16(base + clock.flags)?;
                    match deadline(id, timeout, flags) {
                        Ok(deadline) => timers.push(Timer { userdata, deadline }),
                        Err(e) => events.push(Event::error(userdata, tag, e)),
                    }
                }
                eventtype::FD_READ | eventtype::FD_WRITE => {
                    let fd = mem.read_u32(base + 16)?;
                    match self.fd_readiness(fd, tag == eventtype::FD_READ) {
                        Readiness::Ready { nbytes, hangup } => {
                            let flags = if hangup {
                                eventrwflags::FD_READWRITE_HANGUP
                            } else {
                                0
                            };
                            events.push(Event::ready(userdata, tag, nbytes, flags));
                        }
                        Readiness::Error(e) => events.push(Event::error(userdata, tag, e)),
                        Readiness::WaitStdin => stdin_waits.push(userdata),
                    }
                }
                _ => return Err(Errno::Inval),
            }
        }

        loop {
            let now = Instant::now();
            let earliest = timers.iter().filter_map(|t| t.deadline).min();
            let timeout = if events.is_empty() {
                earliest.map(|d| d.saturating_duration_since(now))
            } else {
                Some(Duration::ZERO)
            };
            if !stdin_waits.is_empty() {
                if let Some((nbytes, hangup, error)) = wait_stdin(timeout)? {
                    for &userdata in &stdin_waits {
                        let mut event = Event::ready(userdata, eventtype::FD_READ, nbytes, 0);
                        if hangup {
                            event.flags = eventrwflags::FD_READWRITE_HANGUP;
                        }
                        if let Some(e) = error {
                            event = Event::error(userdata, eventtype::FD_READ, e);
                        }
                        events.push(event);
                    }
                    stdin_waits.clear();
                }
            } else {
                match timeout {
                    Some(t) if !t.is_zero() => std::thread::sleep(t),
                    Some(_) => {}
                    // Nothing can ever become ready: wait, as asked.
                    None if events.is_empty() => std::thread::sleep(Duration::from_secs(3600)),
                    None => {}
                }
            }
            let now = Instant::now();
            timers.retain(|timer| match timer.deadline {
                Some(d) if d <= now => {
                    events.push(Event::ready(timer.userdata, eventtype::CLOCK, 0, 0));
                    false
                }
                _ => true,
            });
            if !events.is_empty() {
                break;
            }
        }

        for (i, event) in (0u32..).zip(&events) {
            mem.write(events_ptr + i * size::EVENT, &event.to_bytes())?;
        }
        mem.write_u32(nevents_ptr, events.len() as u32)
    }

    /// Whether descriptor `fd` is ready for reading (or writing).
    fn fd_readiness(&mut self, fd: u32, read: bool) -> Readiness {
        let desc = match self.table.get_mut(fd) {
            Ok(desc) => desc,
            Err(e) => return Readiness::Error(e),
        };
        match (&mut desc.object, read) {
            (Object::File(f), true) => {
                let len = f.file.metadata().map(|m| m.len()).unwrap_or(0);
                let pos = (&f.file).stream_position().unwrap_or(len);
                Readiness::Ready {
                    nbytes: len.saturating_sub(pos),
                    hangup: false,
                }
            }
            (Object::File(_) | Object::Dir(_), _) => Readiness::Ready {
                nbytes: 0,
                hangup: false,
            },
            (Object::Input(InputStream::Inherit), true) => Readiness::WaitStdin,
            (Object::Input(InputStream::Memory(pipe)), true) => {
                let remaining = pipe.remaining() as u64;
                Readiness::Ready {
                    nbytes: remaining,
                    hangup: remaining == 0,
                }
            }
            (Object::Input(InputStream::Null), true) => Readiness::Ready {
                nbytes: 0,
                hangup: true,
            },
            (Object::Output(_), false) => Readiness::Ready {
                nbytes: 0,
                hangup: false,
            },
            (Object::Input(_), false) | (Object::Output(_), true) => Readiness::Error(Errno::Badf),
        }
    }
}

enum Readiness {
    Ready { nbytes: u64, hangup: bool },
    Error(Errno),
    WaitStdin,
}

/// The host deadline of a clock subscription.
fn deadline(id: u32, timeout: u64, flags: u16) -> Result<Option<Instant>> {
    let wait = if flags & subclockflags::SUBSCRIPTION_CLOCK_ABSTIME != 0 {
        match id {
            clockid::REALTIME | clockid::MONOTONIC => timeout.saturating_sub(clock_now(id)?),
            _ => return Err(Errno::Inval),
        }
    } else {
        match id {
            clockid::REALTIME | clockid::MONOTONIC => timeout,
            _ => return Err(Errno::Inval),
        }
    };
    Ok(Instant::now().checked_add(Duration::from_nanos(wait)))
}

/// Polls the host's stdin for up to `timeout` (forever if `None`).
/// `Some((available bytes, hung up, error))` once it is ready.
#[allow(clippy::type_complexity)]
fn wait_stdin(timeout: Option<Duration>) -> Result<Option<(u64, bool, Option<Errno>)>> {
    use rustix::event::{PollFd, PollFlags, poll};
    let stdin = std::io::stdin();
    let fd = stdin.as_fd();
    let timespec = timeout.map(|t| rustix::time::Timespec {
        tv_sec: t.as_secs().min(i64::MAX as u64) as i64,
        tv_nsec: t.subsec_nanos() as _,
    });
    let mut fds = [PollFd::from_borrowed_fd(fd, PollFlags::IN)];
    match poll(&mut fds, timespec.as_ref()) {
        Ok(0) => Ok(None),
        Ok(_) => {
            let revents = fds[0].revents();
            if revents.contains(PollFlags::NVAL) {
                return Ok(Some((0, false, Some(Errno::Badf))));
            }
            let nbytes = rustix::io::ioctl_fionread(fd).unwrap_or(0);
            let hangup = revents.contains(PollFlags::HUP) && nbytes == 0;
            Ok(Some((nbytes, hangup, None)))
        }
        Err(rustix::io::Errno::INTR) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
