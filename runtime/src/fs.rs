//! Files: asyncio's `asyncio.to_thread(open(...).read)`, or aiofiles.
//!
//! A regular file is always "ready" as far as epoll is concerned: the OS
//! has no readiness to report for it, and a read that must go to the disk
//! simply blocks. So there is no reactor path for files. Each call here
//! runs the `std::fs` function of the same name on the loop's blocking pool
//! and awaits its answer, as asyncio and tokio do. (`File` reads skip the
//! pool when the bytes are in the page cache; see `File::read_cached`.) One call is one trip to
//! a pool thread and back, so these are for whole-file work (read a
//! config, write a report), not for many small reads.
//!
//! An error names the path and keeps the OS's `ErrorKind`:
//! `could not read "missing.txt": No such file or directory (os error 2)`.

use std::fs::{DirEntry, Metadata};
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use std::sync::Mutex;

use crate::executor::on_blocking_pool;
use crate::observe::{self, WaitRecord};
use crate::sync::oneshot;

/// Runs `op` on the blocking pool, naming `what` and `path` in its error.
async fn on_pool<T, F>(what: &'static str, path: PathBuf, op: F) -> io::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Path) -> io::Result<T> + Send + 'static,
{
    // Through a `Send` channel, not a `JoinHandle`: these futures are
    // `Send`, as tokio's are.
    let job = on_blocking_pool("runtime::fs", move || {
        op(&path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("could not {what} {:?}: {e}", path.display().to_string()),
            )
        })
    });
    match job.await {
        Ok(Ok(result)) => result,
        Ok(Err(_panic)) => Err(io::Error::other(format!(
            "the file operation ({what}) panicked"
        ))),
        Err(_) => Err(io::Error::other(
            "the file operation did not finish: the loop's blocking pool ended",
        )),
    }
}

/// The whole file, as bytes: `std::fs::read` on the blocking pool.
///
/// ```
/// runtime::block_on(async {
///     let path = std::env::temp_dir().join(format!("looplet-fs-doc-{}", std::process::id()));
///     runtime::fs::write(&path, b"hello").await.unwrap();
///     assert_eq!(runtime::fs::read(&path).await.unwrap(), b"hello");
///     runtime::fs::remove_file(&path).await.unwrap();
///     let missing = runtime::fs::read(&path).await.unwrap_err();
///     assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
/// });
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    on_pool("read", path.as_ref().to_owned(), |p| std::fs::read(p)).await
}

/// The whole file, as UTF-8 text: `std::fs::read_to_string`.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    on_pool("read", path.as_ref().to_owned(), |p| {
        std::fs::read_to_string(p)
    })
    .await
}

/// Creates or truncates the file and writes `contents`: `std::fs::write`.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_owned();
    on_pool("write", path.as_ref().to_owned(), move |p| {
        std::fs::write(p, contents)
    })
    .await
}

/// The file's metadata (size, kind, times): `std::fs::metadata`.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_pool("read the metadata of", path.as_ref().to_owned(), |p| {
        std::fs::metadata(p)
    })
    .await
}

/// The entries of a directory, all at once: `std::fs::read_dir`, collected.
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<Vec<DirEntry>> {
    on_pool("list", path.as_ref().to_owned(), |p| {
        std::fs::read_dir(p)?.collect()
    })
    .await
}

/// Removes a file: `std::fs::remove_file`.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool("remove", path.as_ref().to_owned(), |p| {
        std::fs::remove_file(p)
    })
    .await
}

/// Creates a directory and any missing parents: `std::fs::create_dir_all`.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool("create the directory", path.as_ref().to_owned(), |p| {
        std::fs::create_dir_all(p)
    })
    .await
}

/// Renames `from` to `to`, replacing `to` if it exists: `std::fs::rename`.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let to = to.as_ref().to_owned();
    on_pool("rename", from.as_ref().to_owned(), move |p| {
        std::fs::rename(p, to)
    })
    .await
}

/// How much one trip to the pool reads, at most: a long sequential read
/// grows its chunks from `FIRST_CHUNK` up to this, so that many small reads
/// are served from the buffer and the trips to the pool are few, while a
/// small file costs only a small buffer.
const MAX_CHUNK: usize = 4 << 20;
const FIRST_CHUNK: usize = 1 << 20;
/// A read from the page cache on the loop's thread (see `read_cached`)
/// smaller than this fills a buffer of this size, and is served from it.
const CACHED_BUFFER: usize = 64 << 10;

// ANCHOR: file
/// An open file with `futures_io::AsyncRead`, `AsyncWrite` and `AsyncSeek`,
/// asyncio's aiofiles. A read first tries the page cache on the loop's
/// thread, with a read that refuses to wait for the disk (Linux's
/// `RWF_NOWAIT`, see `read_cached`); every other system call runs on the
/// blocking pool. Reads and writes are buffered (pool reads in chunks that
/// grow up to 4 MiB, the next one read while the last is handed out), so
/// small reads and writes do not each cost a trip to a pool thread.
///
/// Writes are buffered: call `flush` (or `close`, or `sync_all`) before you
/// drop the file, or the last bytes are written by a blocking write in
/// `Drop`, on the loop's thread.
///
/// ```
/// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
/// runtime::block_on(async {
///     let path = std::env::temp_dir().join(format!("looplet-file-doc-{}", std::process::id()));
///     let mut file = runtime::fs::File::create(&path).await.unwrap();
///     file.write_all(b"line one\nline two\n").await.unwrap();
///     file.flush().await.unwrap();
///     let mut text = String::new();
///     runtime::fs::File::open(&path).await.unwrap().read_to_string(&mut text).await.unwrap();
///     assert_eq!(text, "line one\nline two\n");
///     runtime::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub struct File {
    /// Everything, behind a mutex that only `sync_all` (the one `&self`
    /// method) locks: the `poll_*` methods have `&mut self` and reach in
    /// with `get_mut`, no lock. The mutex is what makes `File` `Sync`.
    state: Mutex<FileState>,
}

/// The file's state; the methods that drive it are below.
struct FileState {
    job: std::cell::RefCell<State>,
    /// The chunk being handed out, on the loop's thread, while the pool
    /// already reads the next one into `Inner::buf`.
    ahead: std::cell::RefCell<Ahead>,
    /// A `poll_seek` of the caller's is under way on the pool.
    seeking: std::cell::Cell<bool>,
}

/// Read-ahead: `buf[pos..filled]` not handed out yet.
#[derive(Default)]
struct Ahead {
    buf: Vec<u8>,
    pos: usize,
    filled: usize,
}

enum State {
    /// Ready for the next call; `None` only after a pool job panicked.
    Idle(Option<Box<Inner>>),
    /// A system call is under way on the pool, with the file.
    Busy(oneshot::Receiver<std::thread::Result<Box<Inner>>>),
}

/// The file and its buffer: the next chunk read (see `Ahead`), or bytes
/// not written yet. `done` is what the last pool job did, until a caller
/// takes it.
struct Inner {
    file: std::fs::File,
    buf: Vec<u8>,
    pos: usize,
    filled: usize,
    /// The buffer holds read-ahead (or nothing), not bytes to write.
    reading: bool,
    /// How much the next read asks for (see `MAX_CHUNK`).
    chunk: usize,
    /// Reads may try the page cache first (see `read_cached`); false once
    /// the file system refused that kind of read.
    try_cached: bool,
    done: Option<Done>,
}

/// What a pool job did.
enum Done {
    Read(io::Result<usize>),
    Wrote(io::Result<()>),
    Sought(io::Result<u64>),
    Synced(io::Result<()>),
}
// ANCHOR_END: file

impl File {
    /// Opens a file for reading: `std::fs::File::open`.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        let file = on_pool("open", path.as_ref().to_owned(), |p| std::fs::File::open(p)).await?;
        Ok(File::from_std(file))
    }

    /// Creates (or truncates) a file for writing: `std::fs::File::create`.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let file = on_pool("create", path.as_ref().to_owned(), |p| {
            std::fs::File::create(p)
        })
        .await?;
        Ok(File::from_std(file))
    }

    /// Wraps a file opened with std (with `OpenOptions`, say), as tokio's
    /// `File::from_std` does.
    pub fn from_std(file: std::fs::File) -> File {
        let state = FileState {
            job: std::cell::RefCell::new(State::Idle(Some(Box::new(Inner {
                file,
                buf: Vec::new(),
                pos: 0,
                filled: 0,
                reading: true,
                chunk: FIRST_CHUNK,
                try_cached: true,
                done: None,
            })))),
            ahead: Default::default(),
            seeking: std::cell::Cell::new(false),
        };
        File {
            state: Mutex::new(state),
        }
    }

    /// The state, without locking: `&mut self` is proof nobody else has it.
    fn state(&mut self) -> &FileState {
        self.state
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The state, locked (for `sync_all`, which has only `&self`).
    fn locked(&self) -> std::sync::MutexGuard<'_, FileState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads into `buf` (from the read-ahead buffer when it can); `Ok(0)`
    /// at the end of the file. The same as `AsyncReadExt::read`.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| futures_io::AsyncRead::poll_read(Pin::new(&mut *self), cx, buf))
            .await
    }

    /// Writes all of `buf` (into the write buffer, and out to the file as
    /// it fills). The same as `AsyncWriteExt::write_all`.
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = std::future::poll_fn(|cx| {
                futures_io::AsyncWrite::poll_write(Pin::new(&mut *self), cx, buf)
            })
            .await?;
            buf = &buf[n..];
        }
        Ok(())
    }

    /// Writes out the buffered bytes. The same as `AsyncWriteExt::flush`.
    pub async fn flush(&mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.state().poll_flush_buf(cx)).await
    }

    /// Writes out the buffer and waits until the OS has the data on the
    /// disk: `std::fs::File::sync_all`. (The lock is held for one step at
    /// a time, never across an `.await`.)
    pub async fn sync_all(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.locked().poll_flush_buf(cx)).await?;
        std::future::poll_fn(|cx| self.locked().poll_give_back(cx)).await?;
        self.locked()
            .start(|inner| inner.done = Some(Done::Synced(inner.file.sync_all())))?;
        std::future::poll_fn(|cx| self.locked().poll_idle(cx)).await?;
        match self.locked().with_inner(|inner| inner.done.take())? {
            Some(Done::Synced(result)) => result,
            _ => Err(io::Error::other("the sync was lost to another operation")),
        }
    }
}

impl FileState {
    /// Sends `job` to the pool with the file. The file must be idle.
    fn start(&self, job: impl FnOnce(&mut Inner) + Send + 'static) -> io::Result<()> {
        let mut state = self.job.borrow_mut();
        let State::Idle(inner) = &mut *state else {
            return Err(io::Error::other("the file is busy with another operation"));
        };
        let mut inner = inner.take().ok_or_else(lost)?;
        *state = State::Busy(on_blocking_pool("runtime::fs::File", move || {
            job(&mut inner);
            inner
        }));
        Ok(())
    }

    /// Waits until no job is under way; the last job's result is then in
    /// `Inner::done`.
    fn poll_idle(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut state = self.job.borrow_mut();
        let State::Busy(job) = &mut *state else {
            return Poll::Ready(Ok(()));
        };
        let Poll::Ready(answer) = Pin::new(job).poll(cx) else {
            observe::waiting_on(WaitRecord::BLOCKING);
            return Poll::Pending;
        };
        match answer {
            Ok(Ok(inner)) => {
                *state = State::Idle(Some(inner));
                Poll::Ready(Ok(()))
            }
            Ok(Err(_panic)) => {
                *state = State::Idle(None);
                Poll::Ready(Err(io::Error::other(
                    "a file operation panicked on the blocking pool",
                )))
            }
            Err(_) => {
                *state = State::Idle(None);
                Poll::Ready(Err(io::Error::other(
                    "the loop's blocking pool ended before the file operation ran",
                )))
            }
        }
    }

    /// Writes out buffered bytes, if any, and waits for that.
    fn poll_flush_buf(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            std::task::ready!(self.poll_idle(cx))?;
            let (unwritten, failed) = self.with_inner(|inner| {
                let failed = match inner.done.take() {
                    Some(Done::Wrote(Err(e))) => Some(e),
                    other => {
                        inner.done = other; // someone else's result: keep it
                        None
                    }
                };
                (!inner.reading && !inner.buf.is_empty(), failed)
            })?;
            if let Some(e) = failed {
                return Poll::Ready(Err(e));
            }
            if !unwritten {
                return Poll::Ready(Ok(()));
            }
            self.start(|inner| {
                let result = inner.file.write_all(&inner.buf);
                inner.buf.clear();
                inner.reading = true; // empty: ready for either
                inner.done = Some(Done::Wrote(result));
            })?;
        }
    }

    /// Starts reading the next chunk on the pool.
    fn start_read(&self) -> io::Result<()> {
        self.start(|inner| {
            // Zeroed as it grows; after that its length stays.
            if inner.buf.len() < inner.chunk {
                inner.buf.resize(inner.chunk, 0);
            }
            inner.reading = true;
            let chunk = inner.chunk;
            let result = inner.file.read(&mut inner.buf[..chunk]);
            if matches!(result, Ok(n) if n == chunk) {
                inner.chunk = (chunk * 2).min(MAX_CHUNK); // a long read: bigger trips
            }
            inner.done = Some(Done::Read(result));
        })
    }

    /// Before a write, a seek or a sync: gives the read-ahead back to the
    /// file (seeks back over it), so the file stands where the reader does.
    fn poll_give_back(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_idle(cx))?;
        // A give-back seek of an earlier call, finished since: its result.
        let earlier = self.with_inner(|inner| match inner.done.take() {
            Some(Done::Sought(result)) => Some(result),
            other => {
                inner.done = other;
                None
            }
        })?;
        if let Some(Err(e)) = earlier {
            return Poll::Ready(Err(e));
        }
        let unread = {
            let mut ahead = self.ahead.borrow_mut();
            let unread = ahead.filled - ahead.pos;
            (ahead.pos, ahead.filled) = (0, 0);
            unread
        };
        let prefetched = self.with_inner(|inner| match inner.done.take() {
            Some(Done::Read(Ok(n))) => n,
            other => {
                inner.done = other;
                0
            }
        })?;
        let back = (unread + prefetched) as i64;
        self.with_inner(|inner| inner.chunk = FIRST_CHUNK)?; // no longer one long read
        if back == 0 {
            return Poll::Ready(Ok(()));
        }
        self.start(move |inner| {
            inner.done = Some(Done::Sought(inner.file.seek(SeekFrom::Current(-back))));
        })?;
        // Wait for the seek now; it is quick, and callers need it done.
        std::task::ready!(self.poll_idle(cx))?;
        match self.with_inner(|inner| inner.done.take())? {
            Some(Done::Sought(Err(e))) => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(())),
        }
    }

    // ANCHOR: read_cached
    /// Reads on the loop's own thread, but only bytes already in the page
    /// cache: `preadv2` with `RWF_NOWAIT` fails with `EAGAIN` rather than
    /// wait for the disk. A read as large as `CACHED_BUFFER` goes straight
    /// into `out`; a smaller one fills the read-ahead buffer, so that many
    /// small reads cost one system call. `None`: nothing read, go to the pool.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn read_cached(&self, inner: &mut Inner, out: &mut [u8]) -> Option<usize> {
        use std::os::fd::AsRawFd;
        if !inner.try_cached {
            return None;
        }
        let mut ahead = self.ahead.borrow_mut();
        let direct = out.len() >= CACHED_BUFFER;
        let target: &mut [u8] = if direct {
            let len = out.len().min(MAX_CHUNK); // one copy stays short
            &mut out[..len]
        } else {
            if ahead.buf.len() < CACHED_BUFFER {
                ahead.buf.resize(CACHED_BUFFER, 0);
            }
            &mut ahead.buf[..CACHED_BUFFER]
        };
        let iov = libc::iovec {
            iov_base: target.as_mut_ptr().cast(),
            iov_len: target.len(),
        };
        // SAFETY: `iov` describes `target`, a live, writable slice that
        // nothing else touches during the call; offset -1 means "the
        // file's own position", which the call then moves on.
        let n = unsafe { libc::preadv2(inner.file.as_raw_fd(), &iov, 1, -1, libc::RWF_NOWAIT) };
        if n < 0 {
            let e = io::Error::last_os_error();
            // EAGAIN: not cached, the pool waits for the disk. Anything
            // else (a file system without RWF_NOWAIT, an old kernel): stop
            // trying, and let the pool's plain read report real errors.
            if e.kind() != io::ErrorKind::WouldBlock {
                inner.try_cached = false;
            }
            return None;
        }
        let n = n as usize;
        if direct {
            return Some(n);
        }
        let given = n.min(out.len());
        out[..given].copy_from_slice(&ahead.buf[..given]);
        (ahead.pos, ahead.filled) = (given, n);
        Some(given)
    }
    // ANCHOR_END: read_cached

    /// Elsewhere there is no read that refuses to wait: always the pool.
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    fn read_cached(&self, _inner: &mut Inner, _out: &mut [u8]) -> Option<usize> {
        None
    }

    fn with_inner<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> io::Result<R> {
        match &mut *self.job.borrow_mut() {
            State::Idle(Some(inner)) => Ok(f(inner)),
            State::Idle(None) => Err(lost()),
            State::Busy(_) => Err(io::Error::other("the file is busy with another operation")),
        }
    }
}

fn lost() -> io::Error {
    io::Error::other("an earlier operation on this file failed inside the pool; reopen the file")
}

impl futures_io::AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().state().poll_read(cx, out)
    }
}

impl futures_io::AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().state().poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().state().poll_flush_buf(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().state().poll_flush_buf(cx)
    }
}

impl futures_io::AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        self.get_mut().state().poll_seek(cx, pos)
    }
}

// ANCHOR: poll_read
impl FileState {
    fn poll_read(&self, cx: &mut Context<'_>, out: &mut [u8]) -> Poll<io::Result<usize>> {
        let this = self;
        // Budgeted: reads from the chunk in hand are ready at once, and a
        // loop of them must still let other tasks run.
        crate::coop::budgeted(cx, |cx| loop {
            // Hand out what was read ahead, without waiting for the pool
            // (which may be reading the next chunk already).
            {
                let mut ahead = this.ahead.borrow_mut();
                if ahead.pos < ahead.filled || out.is_empty() {
                    let n = (ahead.filled - ahead.pos).min(out.len());
                    out[..n].copy_from_slice(&ahead.buf[ahead.pos..ahead.pos + n]);
                    ahead.pos += n;
                    return Poll::Ready(Ok(n));
                }
            }
            // Nothing left here: wait for the pool (writing out any
            // buffered bytes first), and take the chunk it read.
            std::task::ready!(this.poll_flush_buf(cx))?;
            let got = this.with_inner(|inner| match inner.done.take() {
                Some(Done::Read(Ok(n))) => {
                    let mut ahead = this.ahead.borrow_mut();
                    std::mem::swap(&mut ahead.buf, &mut inner.buf);
                    (ahead.pos, ahead.filled) = (0, n);
                    Some(Ok(n))
                }
                Some(Done::Read(Err(e))) => Some(Err(e)),
                other => {
                    inner.done = other;
                    None
                }
            })?;
            match got {
                Some(Ok(0)) => return Poll::Ready(Ok(0)), // end of file
                Some(Err(e)) => return Poll::Ready(Err(e)),
                // A chunk to hand out: and the pool reads the next one
                // meanwhile, so its trip overlaps our copying.
                Some(Ok(_)) => this.start_read()?,
                // Nothing read ahead: the bytes may be in the page cache,
                // where reading them cannot block. Else, to the pool.
                None => match this.with_inner(|inner| this.read_cached(inner, out))? {
                    Some(n) => return Poll::Ready(Ok(n)),
                    None => this.start_read()?,
                },
            }
        })
    }
}
// ANCHOR_END: poll_read

impl FileState {
    fn poll_write(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        // Budgeted, as reads are: a write into the buffer is ready at once.
        crate::coop::budgeted(cx, |cx| {
            let this = self;
            // Read-ahead goes back to the file first, so the bytes land where
            // the reader stands.
            std::task::ready!(this.poll_give_back(cx))?;
            let failed = this.with_inner(|inner| match inner.done.take() {
                Some(Done::Wrote(Err(e))) => Some(e),
                _ => None,
            })?;
            if let Some(e) = failed {
                return Poll::Ready(Err(e));
            }
            let full = this.with_inner(|inner| {
                if inner.reading {
                    // All read-ahead was handed out (or given back): write mode.
                    (inner.pos, inner.filled) = (0, 0);
                    inner.buf.clear();
                    inner.reading = false;
                }
                inner.buf.extend_from_slice(data);
                inner.buf.len() >= MAX_CHUNK
            })?;
            if full {
                // Start writing out; the next call waits for it.
                let _ = this.poll_flush_buf(cx)?;
            }
            Poll::Ready(Ok(data.len()))
        })
    }

    fn poll_seek(&self, cx: &mut Context<'_>, pos: SeekFrom) -> Poll<io::Result<u64>> {
        let this = self;
        if !this.seeking.get() {
            std::task::ready!(this.poll_flush_buf(cx))?;
            // The file must stand where the reader does, for a relative seek.
            std::task::ready!(this.poll_give_back(cx))?;
            this.start(move |inner| inner.done = Some(Done::Sought(inner.file.seek(pos))))?;
            this.seeking.set(true);
        }
        std::task::ready!(this.poll_idle(cx))?;
        this.seeking.set(false);
        match this.with_inner(|inner| inner.done.take())? {
            Some(Done::Sought(result)) => Poll::Ready(result),
            _ => Poll::Ready(Err(io::Error::other(
                "a seek was lost to another operation",
            ))),
        }
    }
}

impl Drop for FileState {
    fn drop(&mut self) {
        // Bytes not flushed yet: write them now (blocking), rather than
        // lose them. `flush().await` before dropping avoids this.
        if let State::Idle(Some(inner)) = self.job.get_mut() {
            if !inner.reading && !inner.buf.is_empty() {
                let _ = inner.file.write_all(&inner.buf);
            }
        }
    }
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("File")
    }
}
