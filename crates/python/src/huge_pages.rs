//! The worker's heap in transparent huge pages, so that forking it is cheap.
//!
//! Every document runs in a fork of the worker. A fork copies one page-table entry per
//! 4 KiB page the worker has written, and the child's exit tears them down again: for a
//! worker that imported numpy and scikit-learn (78 MB of anonymous memory) that was 7 ms of
//! fork and 9 ms of exit per document. In 2 MiB pages the same memory takes 512 times fewer
//! entries (a child still splits the huge pages it writes to, and copies 4 KiB of them).
//! Two parts hold nearly all of it:
//! - CPython's object arenas (1 MiB each, 256 KiB before 3.10), which it maps one by one:
//!   [`install_arena_allocator`] cuts them from blocks advised for huge pages;
//! - glibc's malloc heap (what CPython and extensions allocate beyond small objects):
//!   [`MALLOC_TUNABLES`] asks glibc to advise huge pages for it.
//!
//! Huge pages come where the system's THP setting is `always` or `madvise` (the usual
//! defaults); elsewhere the memory is plain pages, as before.

use std::ffi::c_void;
use std::sync::Mutex;

/// Address space reserved at a time (only what arenas touch becomes memory). Small beside
/// a child's address-space limit, which it counts against.
const BLOCK_BYTES: usize = 64 << 20;
/// The huge-page size of x86-64 and of arm64 with 4 KiB pages.
const HUGE_PAGE_BYTES: usize = 2 << 20;

/// CPython's `PyObjectArenaAllocator` (the same layout in 3.9 to 3.13). Not in the limited
/// API, so declared here; the worker's libpython always has it.
#[repr(C)]
struct ArenaAllocator {
    ctx: *mut c_void,
    alloc: Option<unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void>,
    free: Option<unsafe extern "C" fn(*mut c_void, *mut c_void, usize)>,
}

extern "C" {
    fn PyObject_GetArenaAllocator(allocator: *mut ArenaAllocator);
    fn PyObject_SetArenaAllocator(allocator: *mut ArenaAllocator);
}

/// Where arenas are cut from. Only touched under the GIL (CPython allocates arenas with it
/// held), so the lock is never contended, and never held across a fork.
struct Blocks {
    /// `(start, end)` of each reserved block.
    reserved: Vec<(usize, usize)>,
    /// The next unused address of the newest block, and that block's end.
    next: usize,
    end: usize,
    /// Freed arenas, given back to the kernel, to be reused before cutting new ones.
    freed: Vec<usize>,
    /// The arena size CPython asks for (one size per build); other sizes go to the default.
    arena_bytes: usize,
}

static BLOCKS: Mutex<Blocks> = Mutex::new(Blocks::new());

/// CPython's own arena allocator, for whatever cannot be placed in a block.
struct CpythonAllocator(ArenaAllocator);
// SAFETY: a table of function pointers and CPython's context, written once before the
// interpreter starts and only read afterwards.
unsafe impl Sync for CpythonAllocator {}
unsafe impl Send for CpythonAllocator {}
static CPYTHON: std::sync::OnceLock<CpythonAllocator> = std::sync::OnceLock::new();

/// The environment variable that has glibc advise huge pages for its heap (glibc 2.35 and
/// later; others ignore it), set for the worker's start only: the worker removes it
/// ([`forget_malloc_tunables`]) so that snippets see the environment they were given.
pub const MALLOC_TUNABLES: (&str, &str) = ("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1");

/// Removes [`MALLOC_TUNABLES`] from the environment when it holds the value snipcheck set
/// (a user's own tunables, passed through `env_allow`, are left as they are). Call before
/// any other thread exists.
pub fn forget_malloc_tunables() {
    let (name, ours) = MALLOC_TUNABLES;
    if std::env::var_os(name).is_some_and(|value| value == ours) {
        std::env::remove_var(name);
    }
}

/// Installs the arena allocator. Call once, before the interpreter starts (CPython then
/// maps no arena yet, so every arena it frees is one this allocator made, or the default's).
pub fn install_arena_allocator() {
    let mut default = ArenaAllocator {
        ctx: std::ptr::null_mut(),
        alloc: None,
        free: None,
    };
    // SAFETY: reads CPython's current allocator into a struct of its layout.
    unsafe { PyObject_GetArenaAllocator(&mut default) };
    if default.alloc.is_none()
        || default.free.is_none()
        || CPYTHON.set(CpythonAllocator(default)).is_err()
    {
        return;
    }
    let mut ours = ArenaAllocator {
        ctx: std::ptr::null_mut(),
        alloc: Some(alloc_arena),
        free: Some(free_arena),
    };
    // SAFETY: CPython copies the struct; the functions live for the process.
    unsafe { PyObject_SetArenaAllocator(&mut ours) };
}

fn blocks() -> std::sync::MutexGuard<'static, Blocks> {
    BLOCKS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

unsafe extern "C" fn alloc_arena(_ctx: *mut c_void, size: usize) -> *mut c_void {
    if let Some(arena) = blocks().cut(size) {
        return arena as *mut c_void;
    }
    match CPYTHON
        .get()
        .and_then(|d| d.0.alloc.map(|alloc| (alloc, d.0.ctx)))
    {
        // SAFETY: CPython's own allocator, with its own context.
        Some((alloc, ctx)) => unsafe { alloc(ctx, size) },
        None => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn free_arena(_ctx: *mut c_void, ptr: *mut c_void, size: usize) {
    if blocks().give_back(ptr as usize, size) {
        return;
    }
    if let Some((free, ctx)) = CPYTHON
        .get()
        .and_then(|d| d.0.free.map(|free| (free, d.0.ctx)))
    {
        // SAFETY: an arena the default allocator made, handed back to it.
        unsafe { free(ctx, ptr, size) }
    }
}

impl Blocks {
    const fn new() -> Blocks {
        Blocks {
            reserved: Vec::new(),
            next: 0,
            end: 0,
            freed: Vec::new(),
            arena_bytes: 0,
        }
    }

    /// An arena of `size` bytes from a block, or `None` to use the default allocator.
    fn cut(&mut self, size: usize) -> Option<usize> {
        if size == 0 || size > BLOCK_BYTES || !size.is_multiple_of(4096) {
            return None;
        }
        if self.arena_bytes == 0 {
            self.arena_bytes = size;
        } else if self.arena_bytes != size {
            return None;
        }
        if let Some(arena) = self.freed.pop() {
            return Some(arena);
        }
        if self.next + size > self.end {
            let (start, end) = reserve_block()?;
            self.reserved.push((start, end));
            self.next = start;
            self.end = end;
        }
        let arena = self.next;
        self.next += size;
        Some(arena)
    }

    /// Takes back an arena of a block (its memory returned to the kernel); false when it is
    /// not one of theirs.
    fn give_back(&mut self, arena: usize, size: usize) -> bool {
        let ours = self
            .reserved
            .iter()
            .any(|&(start, end)| arena >= start && arena + size <= end);
        if !ours {
            return false;
        }
        // SAFETY: the arena is a range of a block this allocator mapped and CPython is done
        // with; its pages read as zeros if it is reused.
        unsafe { libc::madvise(arena as *mut c_void, size, libc::MADV_DONTNEED) };
        self.freed.push(arena);
        true
    }
}

/// Maps a block aligned to the huge-page size (so that each 2 MiB of it can be one page)
/// and advises huge pages for it.
fn reserve_block() -> Option<(usize, usize)> {
    let mapped = BLOCK_BYTES + HUGE_PAGE_BYTES;
    // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
    let start = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            mapped,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if start == libc::MAP_FAILED {
        return None;
    }
    let start = start as usize;
    let aligned = (start + HUGE_PAGE_BYTES - 1) & !(HUGE_PAGE_BYTES - 1);
    let end = aligned + BLOCK_BYTES;
    // SAFETY: unmapping the unaligned head and tail of the mapping just made.
    unsafe {
        if aligned > start {
            libc::munmap(start as *mut c_void, aligned - start);
        }
        if start + mapped > end {
            libc::munmap(end as *mut c_void, start + mapped - end);
        }
        // Refused on kernels without THP: the block is then plain memory.
        libc::madvise(aligned as *mut c_void, BLOCK_BYTES, libc::MADV_HUGEPAGE);
    }
    Some((aligned, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arenas_are_cut_in_order_from_an_aligned_block_and_reused_once_freed() {
        let mut blocks = Blocks::new();
        let first = blocks.cut(1 << 20).unwrap();
        let second = blocks.cut(1 << 20).unwrap();
        assert_eq!(first % HUGE_PAGE_BYTES, 0);
        assert_eq!(second, first + (1 << 20));
        // SAFETY: writing inside an arena this test was given.
        unsafe { *(second as *mut u8) = 7 };
        assert!(blocks.give_back(second, 1 << 20));
        assert_eq!(blocks.cut(1 << 20), Some(second));
        // SAFETY: reading the reused arena: given back, it reads as zeros.
        assert_eq!(unsafe { *(second as *const u8) }, 0);
    }

    #[test]
    fn what_a_block_cannot_hold_goes_to_the_default() {
        let mut blocks = Blocks::new();
        assert!(blocks.cut(1 << 20).is_some());
        // Another size than the build's arena size, or not whole pages.
        assert_eq!(blocks.cut(256 << 10), None);
        assert_eq!(blocks.cut(1000), None);
        // Not from a block: the default allocator made it.
        let elsewhere = Box::new([0u8; 4096]);
        assert!(!blocks.give_back(elsewhere.as_ptr() as usize, 4096));
    }

    #[test]
    fn a_full_block_is_followed_by_a_new_one() {
        let mut blocks = Blocks::new();
        let arenas: Vec<usize> = (0..BLOCK_BYTES / (1 << 20) + 1)
            .map(|_| blocks.cut(1 << 20).unwrap())
            .collect();
        assert_eq!(blocks.reserved.len(), 2);
        assert_eq!(arenas.last().unwrap() % HUGE_PAGE_BYTES, 0);
    }
}
