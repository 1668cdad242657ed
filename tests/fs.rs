//! runtime::fs through the public API: round trips with every byte
//! checked, and errors that keep the OS's kind and name the path.

use std::io::ErrorKind;
use std::path::PathBuf;

use futures_util::io::{AsyncReadExt, AsyncSeekExt};
use runtime::{block_on, fs};

/// A fresh directory of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("looplet-fs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn files_round_trip_with_every_byte_checked() {
    let dir = scratch("round-trip");
    block_on(async {
        fs::create_dir_all(dir.join("a/b")).await.unwrap();
        let data: Vec<u8> = (0..3_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let file = dir.join("a/b/data.bin");
        fs::write(&file, &data).await.unwrap();
        assert!(fs::read(&file).await.unwrap() == data, "every byte back");
        assert_eq!(fs::metadata(&file).await.unwrap().len(), data.len() as u64);

        fs::write(dir.join("a/note.txt"), "héllo, wörld\n")
            .await
            .unwrap();
        assert_eq!(
            fs::read_to_string(dir.join("a/note.txt")).await.unwrap(),
            "héllo, wörld\n"
        );

        let mut names: Vec<String> = fs::read_dir(dir.join("a"))
            .await
            .unwrap()
            .iter()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["b", "note.txt"]);

        fs::rename(dir.join("a/note.txt"), dir.join("a/renamed.txt"))
            .await
            .unwrap();
        assert!(fs::metadata(dir.join("a/renamed.txt")).await.is_ok());
        fs::remove_file(dir.join("a/renamed.txt")).await.unwrap();
        assert_eq!(
            fs::metadata(dir.join("a/renamed.txt"))
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::NotFound
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_file_is_not_found_and_the_message_names_it() {
    let dir = scratch("missing");
    block_on(async {
        let path = dir.join("no-such-file.txt");
        let error = fs::read(&path).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert!(error.to_string().contains("no-such-file.txt"), "{error}");
        assert!(error.to_string().starts_with("could not read"), "{error}");
    });
}

#[test]
fn a_file_reads_writes_and_seeks_with_every_byte_checked() {
    let dir = scratch("file");
    std::fs::create_dir_all(&dir).unwrap();
    block_on(async {
        let path = dir.join("data.bin");
        let data: Vec<u8> = (0..5_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        // Many small writes: buffered, so few trips to the pool.
        let mut file = fs::File::create(&path).await.unwrap();
        for chunk in data.chunks(1000) {
            file.write_all(chunk).await.unwrap();
        }
        file.flush().await.unwrap();
        file.sync_all().await.unwrap();
        drop(file);
        assert!(std::fs::read(&path).unwrap() == data, "written whole");

        // Many small reads, then seeks back and forth.
        let mut file = fs::File::open(&path).await.unwrap();
        let mut back = Vec::new();
        let mut buf = [0u8; 777];
        loop {
            match file.read(&mut buf).await.unwrap() {
                0 => break,
                n => back.extend_from_slice(&buf[..n]),
            }
        }
        assert!(back == data, "every byte read back, in order");
        assert_eq!(file.seek(std::io::SeekFrom::Start(10)).await.unwrap(), 10);
        let mut ten = [0u8; 10];
        file.read_exact(&mut ten).await.unwrap();
        assert_eq!(&ten, &data[10..20]);
        // Relative to where the reader stands, not to the read-ahead.
        assert_eq!(file.seek(std::io::SeekFrom::Current(5)).await.unwrap(), 25);
        file.read_exact(&mut ten).await.unwrap();
        assert_eq!(&ten, &data[25..35]);
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn writing_after_reading_writes_where_the_reader_stands() {
    let dir = scratch("file-rw");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rw.txt");
    std::fs::write(&path, b"abcdefghij").unwrap();
    block_on(async {
        let mut file = fs::File::from_std(
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .unwrap(),
        );
        let mut two = [0u8; 2];
        file.read_exact(&mut two).await.unwrap(); // read ahead the whole file
        file.write_all(b"XY").await.unwrap();
        file.flush().await.unwrap();
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"abXYefghij");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The whole file, read with 64 KiB reads until end of file.
async fn read_in_64_kib_reads(mut file: fs::File) -> Vec<u8> {
    let mut back = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match file.read(&mut buf).await.unwrap() {
            0 => return back,
            n => back.extend_from_slice(&buf[..n]),
        }
    }
}

/// A FIFO opened as a file refuses the loop's page-cache read (the kernel
/// answers EOPNOTSUPP), and its bytes arrive in pieces, with pauses: every
/// read goes to the pool, which waits for them. Every byte checked.
#[test]
fn a_fifo_is_read_by_the_pool_as_its_bytes_arrive_with_every_byte_checked() {
    use std::io::Write;
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch("fifo");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pipe");
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c_path` is a valid NUL-terminated path for the whole call.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let data: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let writer = {
        let (path, data) = (path.clone(), data.clone());
        std::thread::spawn(move || {
            let mut fifo = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            for (i, piece) in data.chunks(100_000).enumerate() {
                if i % 5 == 0 {
                    // The reader finds the pipe empty, now and then.
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                fifo.write_all(piece).unwrap();
            }
        })
    };
    let back = block_on(async {
        let file = fs::File::open(&path).await.unwrap();
        read_in_64_kib_reads(file).await
    });
    writer.join().unwrap();
    assert_eq!(back.len(), data.len());
    assert!(back == data, "every byte, in order");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A file pushed out of the page cache: the loop's read refuses to wait
/// for the disk, and the pool reads it instead, ahead of the reader.
#[test]
fn a_file_not_in_the_page_cache_is_read_by_the_pool_with_every_byte_checked() {
    use std::os::fd::AsRawFd;
    let dir = scratch("cold");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cold.bin");
    let data: Vec<u8> = (0..20_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&path, &data).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    file.sync_all().unwrap();
    // SAFETY: a plain advice call on a descriptor we own.
    unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    let back = block_on(async { read_in_64_kib_reads(fs::File::from_std(file)).await });
    assert!(back == data, "every byte, in order");
    let _ = std::fs::remove_dir_all(&dir);
}
