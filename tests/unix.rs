//! Unix domain sockets through the public API: a stream echo that keeps
//! every byte in order, datagrams to several receivers, and clear errors
//! for a path in use or a path nobody listens on.
#![cfg(unix)]

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use runtime::net::{UnixDatagram, UnixListener, UnixStream};
use tests::with_deadline;

const LIMIT: Duration = Duration::from_secs(30);

/// A fresh socket path in the temporary directory, removed if it exists.
fn socket_path(what: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("looplet-{what}-{}-{n}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn a_unix_stream_echo_keeps_every_byte_in_order() {
    with_deadline(LIMIT, || {
        let path = socket_path("echo");
        runtime::block_on(async {
            let listener = UnixListener::bind(&path).await.unwrap();
            let server = runtime::spawn(async move {
                let (mut conn, _) = listener.accept().await.unwrap();
                let mut buf = vec![0; 8192];
                loop {
                    match conn.read(&mut buf).await.unwrap() {
                        0 => return,
                        n => conn.write_all(&buf[..n]).await.unwrap(),
                    }
                }
            });
            let mut client = UnixStream::connect(&path).await.unwrap();
            // 4 MiB of a pattern, written in one task, read back in another.
            let data: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
            let (mut reader, mut writer) = futures_util::io::AsyncReadExt::split(&mut client);
            let (sent, received) = runtime::gather!(
                async {
                    futures_util::io::AsyncWriteExt::write_all(&mut writer, &data)
                        .await
                        .unwrap();
                    futures_util::io::AsyncWriteExt::close(&mut writer)
                        .await
                        .unwrap();
                },
                async {
                    let mut back = Vec::new();
                    futures_util::io::AsyncReadExt::read_to_end(&mut reader, &mut back)
                        .await
                        .unwrap();
                    back
                }
            )
            .await;
            let () = sent;
            assert_eq!(received.len(), data.len());
            assert!(received == data, "every byte back, in order");
            server.await.unwrap();
        });
        let _ = std::fs::remove_file(&path);
    });
}

#[test]
fn unix_datagrams_reach_several_receivers_on_one_socket() {
    with_deadline(LIMIT, || {
        let (server_path, client_path) = (socket_path("dgram-a"), socket_path("dgram-b"));
        runtime::block_on(async {
            let server = Rc::new(UnixDatagram::bind(&server_path).await.unwrap());
            let receivers: Vec<_> = (0..4)
                .map(|_| {
                    let server = server.clone();
                    runtime::spawn(async move {
                        let mut buf = [0; 8];
                        let (n, _from) = server.recv_from(&mut buf).await.unwrap();
                        buf[..n].to_vec()
                    })
                })
                .collect();
            runtime::yield_now().await;
            let client = UnixDatagram::bind(&client_path).await.unwrap();
            for i in 0..4u8 {
                client.send_to(&[i], &server_path).await.unwrap();
            }
            let mut got: Vec<u8> = Vec::new();
            for r in receivers {
                got.extend(r.await.unwrap());
            }
            got.sort();
            assert_eq!(got, [0, 1, 2, 3]);
        });
        let _ = std::fs::remove_file(&server_path);
        let _ = std::fs::remove_file(&client_path);
    });
}

#[test]
fn a_path_in_use_and_a_path_nobody_listens_on_are_clear_errors() {
    let path = socket_path("errors");
    runtime::block_on(async {
        let _first = UnixListener::bind(&path).await.unwrap();
        let again = UnixListener::bind(&path).await.unwrap_err();
        assert_eq!(again.kind(), std::io::ErrorKind::AddrInUse);
        assert!(
            again.to_string().contains(&path.display().to_string()),
            "{again}"
        );
        let missing = socket_path("nobody");
        let refused = UnixStream::connect(&missing).await.unwrap_err();
        assert!(
            refused.to_string().contains("could not connect"),
            "{refused}"
        );
    });
    let _ = std::fs::remove_file(&path);
}
