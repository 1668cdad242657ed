//! Reading a file with `runtime::fs::File`, measured against plain
//! `std::fs` in the same run: a 100 MB file read with 64 KiB reads.
//!
//! The file was just written, so it is in the page cache: on Linux,
//! `runtime::fs::File` then reads it on the loop's own thread with reads
//! that refuse to wait for the disk (`RWF_NOWAIT`), and only goes to the
//! blocking pool for bytes that are not in memory. The ratio is the price
//! of not blocking the loop.
//!
//! Run it with `cargo run --release --example file_speed`.

use std::io::Read;
use std::time::{Duration, Instant};

const SIZE: usize = 100 << 20;
const READ: usize = 64 << 10;

fn main() {
    let path = std::env::temp_dir().join(format!("looplet-file-speed-{}", std::process::id()));
    let data: Vec<u8> = (0..SIZE as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&path, &data).unwrap();
    let mut buf = vec![0u8; READ];

    let mut best_std = Duration::MAX;
    let mut best_looplet = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let mut file = std::fs::File::open(&path).unwrap();
        let mut total = 0;
        while let Ok(n @ 1..) = file.read(&mut buf) {
            total += n;
        }
        assert_eq!(total, SIZE);
        best_std = best_std.min(start.elapsed());

        let start = Instant::now();
        let total = runtime::block_on(async {
            let mut file = runtime::fs::File::open(&path).await.unwrap();
            let mut total = 0;
            while let Ok(n @ 1..) = file.read(&mut buf).await {
                total += n;
            }
            total
        });
        assert_eq!(total, SIZE);
        best_looplet = best_looplet.min(start.elapsed());
    }
    println!("100 MB in 64 KiB reads, best of 5 (the file in the page cache):");
    println!("  std::fs::File        {best_std:>9.2?}");
    println!("  runtime::fs::File    {best_looplet:>9.2?}");
    println!(
        "  ratio                {:>9.2}",
        best_looplet.as_secs_f64() / best_std.as_secs_f64()
    );
    let _ = std::fs::remove_file(&path);
}
