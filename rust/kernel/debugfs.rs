// SPDX-License-Identifier: GPL-2.0

//! debugfs files of a bound device that pin the module while open.
//!
//! The kernel crate's debugfs files have no `owner` in their file
//! operations, so an open file outlives `rmmod` and its release reads the
//! freed module. Here the file operations are built per driver with the
//! module as owner ([`Files::OwnerModule`]), so `rmmod` is refused
//! (`EAGAIN`) while a file is open. A device's files are removed when it is
//! unbound, before its driver data goes; `debugfs_remove` waits for reads
//! and writes in progress, and later ones fail with `EIO`.

use super::{
    nd::{Bound, Unbind},
    sys,
};
use core::{
    marker::PhantomData,
    ptr::NonNull,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{
    error::{from_err_ptr, from_result},
    module::{this_module, ModuleMetadata},
    prelude::*,
    seq_file::SeqFile,
    sync::Arc,
    types::ForeignOwnable,
    uaccess::{UserPtr, UserSlice, UserSliceReader},
};

/// A module's debugfs directory (`/sys/kernel/debug/NAME`), published for
/// the probes of its devices while it lives.
///
/// # Invariants
///
/// `ROOT` holds the directory of the one live `Root`, or null.
pub(crate) struct Root {
    dir: Option<NonNull<sys::dentry>>,
}

/// The directory of the live [`Root`].
static ROOT: AtomicPtr<sys::dentry> = AtomicPtr::new(core::ptr::null_mut());

// SAFETY: debugfs entries are removed from any thread.
unsafe impl Send for Root {}
// SAFETY: Nothing is reachable through `&Root`.
unsafe impl Sync for Root {}

impl Root {
    /// Creates `/sys/kernel/debug/<name>` and publishes it; a root without
    /// a directory if debugfs is missing or one is published already
    /// (debugfs is best effort, as everywhere in the kernel).
    pub(crate) fn new(name: &CStr) -> Self {
        // SAFETY: `name` is NUL-terminated; no parent.
        let d = unsafe { sys::debugfs_create_dir(name.as_char_ptr(), core::ptr::null_mut()) };
        let Some(dir) = from_err_ptr(d).ok().and_then(NonNull::new) else {
            return Self { dir: None };
        };
        if ROOT
            .compare_exchange(
                core::ptr::null_mut(),
                dir.as_ptr(),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            // SAFETY: Just made, not published.
            unsafe { sys::debugfs_remove(dir.as_ptr()) };
            return Self { dir: None };
        }
        // INVARIANT: Published.
        Self { dir: Some(dir) }
    }
}

impl Drop for Root {
    /// The owner drops its devices' directories first (by unregistering its
    /// driver, which unbinds them): nothing below is left.
    fn drop(&mut self) {
        if let Some(dir) = self.dir {
            ROOT.store(core::ptr::null_mut(), Ordering::Release);
            // SAFETY: Made by `new`, removed once.
            unsafe { sys::debugfs_remove(dir.as_ptr()) };
        }
    }
}

/// The files of a device's debugfs directory.
pub(crate) trait Files: 'static {
    /// The driver data the files get (see [`DevDir::new`]).
    type Data: ForeignOwnable + Send + Sync;
    /// State of the directory's own, kept as long as it (for example what
    /// one file computes and another reports).
    type State: Default + Send + Sync + 'static;
    /// The module that owns the files (an open file pins it).
    type OwnerModule: ModuleMetadata;
    /// Name and mode of each file; callbacks get the index.
    const FILES: &'static [(&'static CStr, u16)];

    /// Reads file `index` (`seq_file`): prints to `m`.
    fn show(
        data: <Self::Data as ForeignOwnable>::Borrowed<'_>,
        state: &Self::State,
        index: usize,
        m: &SeqFile,
    ) -> Result;

    /// Writes to file `index`: one `write(2)`, from `input`.
    fn write(
        data: <Self::Data as ForeignOwnable>::Borrowed<'_>,
        state: &Self::State,
        index: usize,
        input: &mut UserSliceReader,
    ) -> Result;
}

/// A device's debugfs directory below the module's [`Root`].
///
/// # Invariants
///
/// `dir` is shared with the devres action that removes the directory when
/// the device is unbound (registered by [`Self::new`]); its files carry a
/// pointer to it as private data.
pub(crate) struct DevDir<T: Files> {
    dir: Arc<Dir<T::State>>,
    _files: PhantomData<T>,
}

/// A debugfs directory, removed once: by whichever of its owners is first.
///
/// # Invariants
///
/// `dentry` is null (removed) or a directory that `debugfs_create_dir`
/// made, whose files have this value as private data; `data` is the
/// foreign pointer of a [`Bound`] driver data, alive while the files are.
struct Dir<S: Send + Sync + 'static> {
    dentry: AtomicPtr<sys::dentry>,
    data: *mut kernel::ffi::c_void,
    state: S,
}

// SAFETY: `data` is only borrowed as the driver data, which is `Send +
// Sync` (`Files::Data`); the rest is atomic or `S: Send + Sync`.
unsafe impl<S: Send + Sync + 'static> Send for Dir<S> {}
// SAFETY: See `Send`.
unsafe impl<S: Send + Sync + 'static> Sync for Dir<S> {}

impl<S: Send + Sync + 'static> Unbind for Dir<S> {
    fn unbind(&self) {
        let d = self.dentry.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if !d.is_null() {
            // SAFETY: By the type invariant, removed once (the swap).
            // `debugfs_remove` removes the files and waits for reads and
            // writes in progress; later ones fail without calling back.
            unsafe { sys::debugfs_remove(d) };
        }
    }
}

impl<S: Send + Sync + 'static> Drop for Dir<S> {
    fn drop(&mut self) {
        self.unbind();
    }
}

impl<T: Files> DevDir<T> {
    const FOPS: sys::file_operations = sys::file_operations {
        owner: this_module::<T::OwnerModule>().as_ptr(),
        open: Some(Self::open_callback),
        read: Some(sys::seq_read),
        write: Some(Self::write_callback),
        llseek: Some(sys::seq_lseek),
        release: Some(sys::single_release),
        ..pin_init::zeroed()
    };

    /// Creates `<root>/<name>/` with `T::FILES` for the device of `data`,
    /// removed when it is unbound (or when this is dropped); `None`
    /// without a published [`Root`].
    pub(crate) fn new(data: &Bound<'_, T::Data>, name: &CStr) -> Result<Option<Self>> {
        let root = ROOT.load(Ordering::Acquire);
        if root.is_null() {
            return Ok(None);
        }
        // SAFETY: `name` is NUL-terminated; `root` is the live root's
        // directory: devices probe only while their driver is registered,
        // which its owner does while the root lives.
        let d = unsafe { sys::debugfs_create_dir(name.as_char_ptr(), root) };
        let d = from_err_ptr(d)?;
        // INVARIANT: A directory just made.
        let dir = Arc::new(
            Dir {
                dentry: AtomicPtr::new(d),
                data: data.as_foreign(),
                state: T::State::default(),
            },
            GFP_KERNEL,
        );
        let dir = match dir {
            Ok(dir) => dir,
            Err(e) => {
                // SAFETY: Just made, owned by no one else.
                unsafe { sys::debugfs_remove(d) };
                return Err(e.into());
            }
        };
        for (index, (fname, mode)) in T::FILES.iter().enumerate() {
            // SAFETY: `d` is a live directory; the private data, `dir`,
            // outlives the files (it removes them before it goes, and the
            // driver data's `Bound` is gone only after they are removed at
            // unbind, below); `FOPS` is static; the aux value is the index.
            let f = unsafe {
                sys::debugfs_create_file_full(
                    fname.as_char_ptr(),
                    *mode,
                    d,
                    Arc::as_ptr(&dir).cast_mut().cast(),
                    index as *const kernel::ffi::c_void,
                    &Self::FOPS,
                )
            };
            from_err_ptr(f)?;
        }
        // If this fails, the directory is removed now.
        data.device().unbind_with(dir.clone())?;
        Ok(Some(Self {
            dir,
            _files: PhantomData,
        }))
    }

    /// The directory of a file, from its private data.
    ///
    /// # Safety
    ///
    /// `private` must be the private data of a file of a `DevDir<T>` that
    /// is not removed yet.
    unsafe fn dir<'a>(private: *mut kernel::ffi::c_void) -> &'a Dir<T::State> {
        // SAFETY: By the caller and the type invariant, a live `Dir`.
        unsafe { &*private.cast::<Dir<T::State>>() }
    }

    /// The index of a file (its aux value).
    ///
    /// # Safety
    ///
    /// `file` must be an open file of a `DevDir<T>`.
    unsafe fn index(file: *const sys::file) -> usize {
        // SAFETY: By the caller a debugfs file, made with the index as aux.
        unsafe { sys::debugfs_get_aux(file.cast()) as usize }
    }

    /// `file_operations.open`: a `seq_file` with one show.
    ///
    /// # Safety
    ///
    /// Called by the VFS (through the debugfs proxy) for a file of a
    /// `DevDir<T>`, which is not removed meanwhile.
    unsafe extern "C" fn open_callback(inode: *mut sys::inode, file: *mut sys::file) -> i32 {
        // SAFETY: By the caller `inode` and `file` are valid; the show gets
        // the inode's private data back as `m->private`.
        unsafe { sys::single_open(file, Some(Self::show_callback), (*inode).i_private) }
    }

    /// The `seq_file` show.
    ///
    /// # Safety
    ///
    /// Called by `seq_read` on a file opened by `open_callback`, while the
    /// file's debugfs entry is not removed (the proxy holds it).
    unsafe extern "C" fn show_callback(m: *mut sys::seq_file, _v: *mut kernel::ffi::c_void) -> i32 {
        // SAFETY: By the caller `m` is valid; its private data is the
        // inode's, the `Dir`, alive while the file's entry is.
        let dir = unsafe { Self::dir((*m).private) };
        // SAFETY: By the type invariant of `Dir`.
        let data = unsafe { T::Data::borrow(dir.data) };
        // SAFETY: By the caller `m->file` is a file of a `DevDir<T>`.
        let index = unsafe { Self::index((*m).file) };
        // SAFETY: By the caller `m` is valid and used by this thread only.
        let seq = unsafe { SeqFile::from_raw(m) };
        from_result(|| T::show(data, &dir.state, index, seq).map(|()| 0))
    }

    /// `file_operations.write`: the whole command in one write.
    ///
    /// # Safety
    ///
    /// Called by the VFS (through the debugfs proxy) for an open file of a
    /// `DevDir<T>` with `len` bytes of user memory at `buf`.
    unsafe extern "C" fn write_callback(
        file: *mut sys::file,
        buf: *const kernel::ffi::c_char,
        len: usize,
        _pos: *mut sys::loff_t,
    ) -> isize {
        // SAFETY: By the caller `file` is valid; the inode's private data
        // is the `Dir`, alive while the entry is.
        let dir = unsafe { Self::dir((*(*file).f_inode).i_private) };
        // SAFETY: By the type invariant of `Dir`.
        let data = unsafe { T::Data::borrow(dir.data) };
        // SAFETY: By the caller.
        let index = unsafe { Self::index(file) };
        let mut reader = UserSlice::new(UserPtr::from_ptr(buf.cast_mut().cast()), len).reader();
        match T::write(data, &dir.state, index, &mut reader) {
            Ok(()) => len as isize,
            Err(e) => e.to_errno() as isize,
        }
    }
}

impl<T: Files> Drop for DevDir<T> {
    fn drop(&mut self) {
        self.dir.unbind();
    }
}
