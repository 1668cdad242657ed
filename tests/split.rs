//! Split streams: `&TcpStream` reads and writes, borrowed `split` and owned
//! `into_split` halves (tokio's names), so a proxy copies both ways at once
//! with no lock between the directions.

use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use runtime::net::{TcpListener, TcpStream};
use tests::with_deadline;

const SIZE: usize = 8 << 20;

/// Bytes that differ by `seed`, so a mix-up between directions shows.
fn pattern(seed: u32) -> Vec<u8> {
    (0..SIZE as u32)
        .map(|i| (i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

/// Reads until end of stream.
async fn read_all(mut reader: impl futures_util::io::AsyncRead + Unpin) -> Vec<u8> {
    let mut all = Vec::new();
    reader.read_to_end(&mut all).await.unwrap();
    all
}

/// A proxy between a client and a server, each copying 8 MiB the other way
/// at once: the proxy's two copies run in two tasks over owned halves, and
/// the client reads and writes at once over borrowed halves.
#[test]
fn a_proxy_over_split_halves_moves_8_mib_both_ways_at_once() {
    with_deadline(std::time::Duration::from_secs(60), || {
        runtime::block_on(async {
            let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let server_addr = server.local_addr().unwrap();
            let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let proxy_addr = proxy.local_addr().unwrap();

            // The server: sends pattern 1, receives pattern 2, at once.
            let server = runtime::spawn(async move {
                let (conn, _) = server.accept().await.unwrap();
                let (reader, mut writer) = conn.into_split();
                let send = runtime::spawn(async move {
                    writer.write_all(&pattern(1)).await.unwrap();
                    // dropping `writer` shuts the writing side down
                });
                let got = read_all(reader).await;
                send.await.unwrap();
                got
            });

            // ANCHOR: proxy
            // The proxy: one task per direction, over owned halves.
            let proxy = runtime::spawn(async move {
                let (client, _) = proxy.accept().await.unwrap();
                let upstream = TcpStream::connect(server_addr).await.unwrap();
                let (client_read, mut client_write) = client.into_split();
                let (up_read, mut up_write) = upstream.into_split();
                let up = runtime::spawn(async move {
                    futures_util::io::copy(client_read, &mut up_write)
                        .await
                        .unwrap()
                });
                let down = futures_util::io::copy(up_read, &mut client_write)
                    .await
                    .unwrap();
                (up.await.unwrap(), down)
            });
            // ANCHOR_END: proxy

            // The client: borrowed halves of one stream, in one task.
            let mut client = TcpStream::connect(proxy_addr).await.unwrap();
            let (reader, mut writer) = TcpStream::split(&mut client);
            let send = async {
                writer.write_all(&pattern(2)).await.unwrap();
                writer.close().await.unwrap();
            };
            let ((), got) = runtime::gather!(send, read_all(reader)).await;

            assert_eq!(got.len(), SIZE);
            assert!(got == pattern(1), "server to client: every byte, in order");
            let at_server = server.await.unwrap();
            assert_eq!(at_server.len(), SIZE);
            assert!(
                at_server == pattern(2),
                "client to server: every byte, in order"
            );
            assert_eq!(proxy.await.unwrap(), (SIZE as u64, SIZE as u64));
        });
    });
}

/// `&TcpStream` is a reader and a writer: two futures of one task use one
/// stream at once, with no split at all.
#[test]
fn a_shared_reference_reads_and_writes_at_once() {
    runtime::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let echo = runtime::spawn(async move {
            let (conn, _) = listener.accept().await.unwrap();
            let (reader, mut writer) = conn.into_split();
            futures_util::io::copy(reader, &mut writer).await.unwrap()
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let data = pattern(3)[..1 << 20].to_vec();
        let send = async {
            (&stream).write_all(&data).await.unwrap();
            stream.shutdown(std::net::Shutdown::Write).unwrap();
        };
        let ((), back) = runtime::gather!(send, read_all(&stream)).await;
        assert!(back == data, "every byte echoed, in order");
        assert_eq!(echo.await.unwrap(), data.len() as u64);
    });
}

/// Dropping the owned write half shuts the writing side down: the peer
/// reads end of stream, and the read half still works.
#[test]
fn dropping_the_owned_write_half_sends_end_of_stream() {
    runtime::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let (mut reader, writer) = client.into_split();
        drop(writer);
        let mut byte = [0u8; 1];
        assert_eq!(server.read(&mut byte).await.unwrap(), 0, "end of stream");
        server.write_all(b"still here").await.unwrap();
        let mut back = [0u8; 10];
        reader.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"still here");
    });
}

/// The halves are `Send` (they go where their stream may go).
#[test]
fn owned_halves_are_send_and_sync() {
    fn send_sync<T: Send + Sync + Unpin>() {}
    send_sync::<runtime::net::tcp::OwnedReadHalf>();
    send_sync::<runtime::net::tcp::OwnedWriteHalf>();
    send_sync::<runtime::net::tcp::ReadHalf<'static>>();
    send_sync::<runtime::net::unix::OwnedReadHalf>();
    send_sync::<runtime::net::unix::OwnedWriteHalf>();
}
