//! Files: asyncio's `asyncio.to_thread(open(...).read)`, or aiofiles.
//!
//! A regular file is always "ready" as far as epoll is concerned: the OS
//! has no readiness to report for it, and a read that must go to the disk
//! simply blocks. So there is no reactor path for files. Each call here
//! runs the `std::fs` function of the same name on the loop's blocking pool
//! and awaits its answer, as asyncio and tokio do. One call is one trip to
//! a pool thread and back, so these are for whole-file work (read a
//! config, write a report), not for many small reads.
//!
//! An error names the path and keeps the OS's `ErrorKind`:
//! `could not read "missing.txt": No such file or directory (os error 2)`.

use std::fs::{DirEntry, Metadata};
use std::io;
use std::path::{Path, PathBuf};

use crate::executor::spawn_blocking;

/// Runs `op` on the blocking pool, naming `what` and `path` in its error.
async fn on_pool<T, F>(what: &'static str, path: PathBuf, op: F) -> io::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Path) -> io::Result<T> + Send + 'static,
{
    let job = spawn_blocking(move || {
        op(&path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("could not {what} {:?}: {e}", path.display().to_string()),
            )
        })
    });
    match job.await {
        Ok(result) => result,
        Err(e) => Err(io::Error::other(format!(
            "the file operation did not finish: {e}"
        ))),
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
