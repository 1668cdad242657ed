//! An async generator: the seed's `async def stream_rows(...): ... yield row`,
//! over a paged "database cursor".
//!
//! The "database" answers a page of rows at a time, after a short delay,
//! the way a real one answers `FETCH 100` over the network. The generator
//! asks for the next page only when the rows of the last one are used up,
//! and yields one row at a time, so the caller writes a plain
//! `while let Some(row) = rows.next().await` and never sees the pages.
//! The program prints when each page is fetched, between the rows, to show
//! that the generator is lazy: page 1 is not asked for until row 4 is.
//!
//! Run it with `cargo run --example stream_rows`.

use std::time::Duration;

use runtime::stream::{generate, StreamExt};
use runtime::time::sleep;

/// One page of the query's rows, `LIMIT size OFFSET page * size`, or an
/// empty page after the last row.
async fn fetch_page(page: usize, size: usize, total: usize) -> Vec<String> {
    sleep(Duration::from_millis(5)).await; // the round trip to the database
    let start = page * size;
    (start..(start + size).min(total))
        .map(|id| format!("row {id}: user{id}@example.com"))
        .collect()
}

// ANCHOR: stream_rows
/// Every row of the query, a page at a time under the hood.
fn stream_rows(page_size: usize, total: usize) -> impl runtime::stream::Stream<Item = String> {
    generate(move |mut y| async move {
        for page in 0.. {
            println!("  (fetching page {page})");
            let rows = fetch_page(page, page_size, total).await;
            if rows.is_empty() {
                return; // no more rows: the stream ends
            }
            for row in rows {
                y.yield_(row).await;
            }
        }
    })
}
// ANCHOR_END: stream_rows

fn main() {
    runtime::block_on(async {
        let mut rows = stream_rows(4, 10);
        let mut count = 0;
        while let Some(row) = rows.next().await {
            println!("{row}");
            count += 1;
        }
        println!("{count} rows, in pages of 4");
    });
}
