//! TCP and UDP against the public API: bytes arrive whole and in order, the
//! end of a stream is `Ok(0)`, and every error a peer or the OS can cause
//! is an `io::Error`, never a panic or a dead process.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

use runtime::net::{TcpListener, TcpStream, UdpSocket};
use tests::{number_after, raise_fd_limit, with_deadline, ChildTest};

const LIMIT: Duration = Duration::from_secs(60);

/// Serves one echo connection: read, write back, until end of stream.
async fn echo(mut conn: TcpStream) {
    let mut buf = vec![0; 4096];
    loop {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if conn.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// A listener on a free port that echoes every connection, as a task.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(runtime::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            drop(runtime::spawn(echo(conn)));
        }
    }));
    addr
}

#[test]
fn an_echo_round_trip_keeps_every_byte_in_order() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let addr = echo_server().await;
            let mut stream = TcpStream::connect(addr).await.unwrap();
            // 4 MiB of a pattern that shows any loss or reordering, in 64 KiB
            // chunks: each chunk is more than one read, so the server's task
            // really waits on readiness between reads.
            let sent: Vec<u8> = (0..4u32 << 20).map(|i| (i % 251) as u8).collect();
            let mut got = vec![0; sent.len()];
            for (out, back) in sent.chunks(64 << 10).zip(got.chunks_mut(64 << 10)) {
                stream.write_all(out).await.unwrap();
                stream.read_exact(back).await.unwrap();
            }
            assert!(got == sent, "the echoed bytes differ from the bytes sent");
        })
    });
}

#[test]
fn read_gives_ok_0_after_the_peer_shuts_down_writing() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let peer = runtime::spawn(async move {
                let (conn, _) = listener.accept().await.unwrap();
                conn.shutdown(Shutdown::Write).unwrap();
                conn // keep it open: only its writing side is shut
            });
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut buf = [0; 16];
            assert_eq!(stream.read(&mut buf).await.unwrap(), 0);
            assert_eq!(stream.read(&mut buf).await.unwrap(), 0, "and again");
            let mut exact = [0; 4];
            let err = stream.read_exact(&mut exact).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
            drop(peer.await.unwrap());
        })
    });
}

#[test]
fn connecting_to_a_closed_port_is_an_error_within_a_second() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            // Bind, note the port, close: now nobody listens there.
            let addr = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap();
            let start = Instant::now();
            let err = TcpStream::connect(addr).await.unwrap_err();
            assert!(start.elapsed() < Duration::from_secs(1));
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
            assert!(err.to_string().contains(&addr.to_string()), "{err}");
        })
    });
}

#[test]
fn binding_an_address_in_use_is_addr_in_use() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = first.local_addr().unwrap();
            let err = TcpListener::bind(addr).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
            let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let err = UdpSocket::bind(udp.local_addr().unwrap())
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
        })
    });
}

#[test]
fn every_kind_of_address_connects() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let addr = echo_server().await;
            let port = addr.port();
            let by_name = format!("localhost:{port}");
            let mut streams = vec![
                TcpStream::connect(by_name.as_str()).await.unwrap(),
                TcpStream::connect(by_name.clone()).await.unwrap(),
                TcpStream::connect(("localhost", port)).await.unwrap(),
                TcpStream::connect(("127.0.0.1", port)).await.unwrap(),
                TcpStream::connect(format!("127.0.0.1:{port}"))
                    .await
                    .unwrap(),
                TcpStream::connect(addr).await.unwrap(),
                TcpStream::connect(&addr).await.unwrap(),
            ];
            for stream in &mut streams {
                stream.write_all(b"hi").await.unwrap();
                let mut buf = [0; 2];
                stream.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"hi");
            }
        })
    });
}

#[test]
fn a_malformed_address_is_a_clear_error() {
    runtime::block_on(async {
        let err = TcpStream::connect("no-port-here").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("host:port"), "{err}");
    });
}

#[test]
fn a_udp_round_trip_works() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let server_addr = server.local_addr().unwrap();
            let echo = runtime::spawn(async move {
                let mut buf = [0; 64];
                for _ in 0..3 {
                    let (n, from) = server.recv_from(&mut buf).await.unwrap();
                    server.send_to(&buf[..n], from).await.unwrap();
                }
            });
            for word in [&b"one"[..], b"two", b"three"] {
                client.send_to(word, server_addr).await.unwrap();
                let mut buf = [0; 64];
                let (n, from) = client.recv_from(&mut buf).await.unwrap();
                assert_eq!((&buf[..n], from), (word, server_addr));
            }
            echo.await.unwrap();
        })
    });
}

#[test]
fn two_thousand_connections_each_echo_ten_messages_without_loss() {
    raise_fd_limit(4_500);
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let addr = echo_server().await;
            let clients = (0..2_000u32).map(|id| async move {
                let mut stream = TcpStream::connect(addr).await?;
                for round in 0..10u32 {
                    let message = format!("client {id} message {round};");
                    stream.write_all(message.as_bytes()).await?;
                    let mut back = vec![0; message.len()];
                    stream.read_exact(&mut back).await?;
                    assert_eq!(back, message.as_bytes());
                }
                Ok::<u32, std::io::Error>(10)
            });
            let echoed: u32 = runtime::try_gather(clients).await.unwrap().iter().sum();
            assert_eq!(echoed, 20_000);
        })
    });
}

#[test]
fn writing_to_a_peer_that_reset_is_an_error_not_a_death() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // The peer is a plain socket that closes at once with unread data
            // pending, which makes the kernel send a reset.
            let peer = std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                s.write_all(b"unread").unwrap();
                std::thread::sleep(Duration::from_millis(50));
                drop(s);
            });
            let (mut conn, _) = listener.accept().await.unwrap();
            runtime::time::sleep(Duration::from_millis(200)).await;
            let chunk = [7u8; 64 << 10];
            let mut result = Ok(());
            for _ in 0..100 {
                result = conn.write_all(&chunk).await;
                if result.is_err() {
                    break;
                }
            }
            let err = result.expect_err("writes to a reset peer must fail");
            assert!(
                matches!(
                    err.kind(),
                    ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
                ),
                "{err}"
            );
            peer.join().unwrap();
        })
    });
}

#[test]
fn futures_io_helpers_read_lines_from_a_tcp_stream() {
    use futures_util::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use futures_util::StreamExt;
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            drop(runtime::spawn(async move {
                let (mut conn, _) = listener.accept().await.unwrap();
                // AsyncWriteExt::write_all and close, from the futures crate.
                AsyncWriteExt::write_all(&mut conn, b"first\nsecond\nthird\n")
                    .await
                    .unwrap();
                conn.close().await.unwrap();
            }));
            let stream = TcpStream::connect(addr).await.unwrap();
            let lines: Vec<String> = BufReader::new(stream)
                .lines()
                .map(Result::unwrap)
                .collect()
                .await;
            assert_eq!(lines, ["first", "second", "third"]);
        })
    });
}

#[test]
fn sockets_outlive_nothing_when_the_loop_ends() {
    // A listener, a connection and a UDP socket left in pending tasks are
    // dropped with the loop, and their ports are free again afterwards.
    let (tcp_addr, udp_addr) = runtime::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addrs = (listener.local_addr().unwrap(), udp.local_addr().unwrap());
        drop(runtime::spawn(async move { listener.accept().await }));
        drop(runtime::spawn(async move {
            let mut buf = [0; 8];
            udp.recv_from(&mut buf).await
        }));
        runtime::yield_now().await;
        addrs
    });
    std::net::TcpListener::bind(tcp_addr).expect("the TCP port is free again");
    std::net::UdpSocket::bind(udp_addr).expect("the UDP port is free again");
}

/// The child half of `an_accept_loop_out_of_descriptors_keeps_serving`.
/// Does nothing unless started by that test.
#[test]
fn child_accept_loop_under_a_low_fd_limit() {
    if std::env::var_os("LOOPLET_FD_CHILD").is_none() {
        return;
    }
    tests::set_fd_limit(48);
    runtime::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("port {}", listener.local_addr().unwrap().port());
        let (mut accepted, mut errors) = (0, 0);
        while accepted < 100 {
            match listener.accept().await {
                Ok((conn, _)) => {
                    accepted += 1;
                    drop(runtime::spawn(echo(conn))); // holds its descriptor until EOF
                }
                Err(e) => {
                    // The right reaction: say so, back off, keep serving.
                    errors += 1;
                    eprintln!("accept failed: {e}; retrying in 20 ms");
                    runtime::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        println!("accepted {accepted} errors {errors}");
    });
}

#[test]
fn an_accept_loop_out_of_descriptors_keeps_serving() {
    let (child, port) = ChildTest::start(
        "child_accept_loop_under_a_low_fd_limit",
        ("LOOPLET_FD_CHILD", "1"),
    );
    // 100 connections: more than the child's 48 descriptors. The kernel
    // completes them all (the listen backlog), so the child's accept loop
    // runs out of descriptors while they are held open.
    let mut conns: Vec<std::net::TcpStream> = (0..100)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    // Each held connection still echoes.
    conns[0].write_all(b"x").unwrap();
    let mut one = [0; 1];
    conns[0].read_exact(&mut one).unwrap();
    // Free the descriptors: the child must accept the rest and finish.
    conns.clear();
    let (rest, stderr) = child.finish(Duration::from_secs(30), "the accept loop stopped serving");
    assert!(rest.contains("accepted 100"), "{rest}");
    assert!(
        stderr.contains("accept failed"),
        "the child never ran out of descriptors: {stderr}"
    );
    // Backing off means few attempts while the descriptors were gone, not a spin.
    let errors = number_after(&rest, "errors ");
    assert!(
        errors < 200,
        "the accept loop spun: {errors} failed accepts"
    );
}

// Several waiters on one socket. A `&self` method can be awaited by many
// tasks at once; each must be woken, none may hang (each test runs under a
// deadline).

#[test]
fn two_tasks_accepting_on_one_listener_both_get_a_connection() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let listener = std::rc::Rc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.local_addr().unwrap();
            let acceptors: Vec<_> = (0..2)
                .map(|_| {
                    let listener = listener.clone();
                    runtime::spawn(async move { listener.accept().await.map(|(_, peer)| peer) })
                })
                .collect();
            runtime::yield_now().await; // both are waiting in accept now
            let _a = TcpStream::connect(addr).await.unwrap();
            let _b = TcpStream::connect(addr).await.unwrap();
            for acceptor in acceptors {
                acceptor.await.unwrap().unwrap();
            }
        })
    });
}

#[test]
fn gather_of_two_accepts_on_one_listener_finishes() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let clients = runtime::spawn(async move {
                let a = TcpStream::connect(addr).await.unwrap();
                let b = TcpStream::connect(addr).await.unwrap();
                (a, b)
            });
            let (a, b) = runtime::gather!(listener.accept(), listener.accept()).await;
            a.unwrap();
            b.unwrap();
            clients.await.unwrap();
        })
    });
}

#[test]
fn many_tasks_receiving_on_one_udp_socket_each_get_a_datagram() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let socket = std::rc::Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let addr = socket.local_addr().unwrap();
            let receivers: Vec<_> = (0..8)
                .map(|_| {
                    let socket = socket.clone();
                    runtime::spawn(async move {
                        let mut buf = [0; 8];
                        let (n, _) = socket.recv_from(&mut buf).await.unwrap();
                        buf[0..n].to_vec()
                    })
                })
                .collect();
            runtime::yield_now().await;
            // Several tasks sending on one socket too.
            let sender = std::rc::Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let sends = (0..8u8).map(|i| {
                let sender = sender.clone();
                async move { sender.send_to(&[i], addr).await.unwrap() }
            });
            runtime::gather(sends).await;
            let mut got: Vec<u8> = Vec::new();
            for receiver in receivers {
                got.extend(receiver.await.unwrap());
            }
            got.sort();
            assert_eq!(got, (0..8).collect::<Vec<u8>>());
        })
    });
}

#[test]
fn a_reader_and_a_writer_on_one_stream_are_both_served() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = runtime::spawn(async move { TcpStream::connect(addr).await.unwrap() });
            let (server, _) = listener.accept().await.unwrap();
            let client = client.await.unwrap();
            // One task reads from the stream while another writes to it:
            // 1 MiB each way, more than the socket buffers hold, so both
            // sides wait for readiness many times, at the same time.
            let (mut read_half, mut write_half) = futures_util::io::AsyncReadExt::split(server);
            let reader = runtime::spawn(async move {
                let mut buf = vec![0; 1 << 20];
                futures_util::io::AsyncReadExt::read_exact(&mut read_half, &mut buf)
                    .await
                    .unwrap();
                buf.iter().all(|&b| b == 7)
            });
            let writer = runtime::spawn(async move {
                let data = vec![9; 1 << 20];
                futures_util::io::AsyncWriteExt::write_all(&mut write_half, &data)
                    .await
                    .unwrap();
            });
            // The client writes 1 MiB of 7s and reads 1 MiB of 9s.
            let mut client = client;
            let to_server = vec![7u8; 1 << 20];
            let mut from_server = vec![0u8; 1 << 20];
            let (mut c_read, mut c_write) = futures_util::io::AsyncReadExt::split(&mut client);
            let (w, r) = runtime::gather!(
                futures_util::io::AsyncWriteExt::write_all(&mut c_write, &to_server),
                futures_util::io::AsyncReadExt::read_exact(&mut c_read, &mut from_server),
            )
            .await;
            w.unwrap();
            r.unwrap();
            assert!(from_server.iter().all(|&b| b == 9));
            assert!(reader.await.unwrap());
            writer.await.unwrap();
        })
    });
}

#[test]
fn a_storm_of_cancelled_accepts_leaves_the_listener_working() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let listener = std::rc::Rc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.local_addr().unwrap();
            // One patient acceptor waits the whole time...
            let patient = runtime::spawn({
                let listener = listener.clone();
                async move { listener.accept().await.map(|_| ()) }
            });
            runtime::yield_now().await;
            // ...while 20,000 others give up at once.
            for _ in 0..20_000 {
                let r = runtime::time::timeout(Duration::ZERO, listener.accept()).await;
                assert!(r.is_err());
            }
            let _conn = TcpStream::connect(addr).await.unwrap();
            patient.await.unwrap().unwrap();
        })
    });
}

#[test]
fn reading_into_an_empty_buffer_is_ok_0_at_once() {
    with_deadline(LIMIT, || {
        runtime::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut client = TcpStream::connect(addr).await.unwrap();
            let (_idle_server, _) = listener.accept().await.unwrap();
            // The peer sends nothing; an empty read must not wait for it.
            let n = runtime::time::timeout(Duration::from_secs(5), client.read(&mut []))
                .await
                .expect("read(&mut []) waited");
            assert_eq!(n.unwrap(), 0);
            assert_eq!(client.write(&[]).await.unwrap(), 0);
        })
    });
}

/// A listener opened with std (where options such as `SO_REUSEPORT` can be
/// set before `bind`) is taken over with `from_std` and accepts as usual.
#[test]
fn a_listener_from_std_accepts_and_reads() {
    runtime::block_on(async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        let client = std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream.write_all(b"hi").unwrap();
        });
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 2];
        conn.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
        client.join().unwrap();
    });
}
