//! The handles a `Send`-bound library keeps (sockets, timers, children,
//! files) are `Send + Sync` (and `Unpin`), as tokio's are; used where
//! their loop is not running they say so, and never misbehave.

fn send_sync<T: Send + Sync + Unpin>() {}

#[test]
fn io_and_time_types_are_send_and_sync() {
    use runtime::net::*;
    send_sync::<TcpStream>();
    send_sync::<TcpListener>();
    send_sync::<UdpSocket>();
    send_sync::<UnixStream>();
    send_sync::<UnixListener>();
    send_sync::<UnixDatagram>();
    send_sync::<runtime::time::Sleep>();
    send_sync::<runtime::time::Interval>();
    send_sync::<runtime::time::Timeout<std::future::Ready<u8>>>();
    send_sync::<runtime::process::Child>();
    send_sync::<runtime::process::ChildStdin>();
    send_sync::<runtime::process::ChildStdout>();
    send_sync::<runtime::process::ChildStderr>();
    send_sync::<runtime::fs::File>();
}

/// `connect` and `accept` futures are `Send` too, as tokio's are, so a
/// connector of a `Send`-bound pool can return one.
#[test]
fn connect_and_accept_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    let connect = runtime::net::TcpStream::connect("localhost:1");
    send(&connect);
    let read_file = runtime::fs::read("/nonexistent");
    send(&read_file);
    async fn accept_one(listener: runtime::net::TcpListener) {
        let _ = listener.accept().await;
    }
    fn accept_is_send(listener: runtime::net::TcpListener) -> impl Send {
        accept_one(listener)
    }
    let _ = accept_is_send;
}

/// A stream made in one loop, used from a thread running another loop:
/// an error that says what to do, never undefined behaviour or a hang.
/// Sent back to its own loop's thread, it works again.
#[test]
fn a_socket_used_where_its_loop_is_not_running_errors_cleanly() {
    let rt = runtime::Runtime::new().unwrap();
    let (mut stream, peer) = rt.block_on(async {
        let listener = runtime::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = std::net::TcpStream::connect(addr).unwrap();
        (listener.accept().await.unwrap().0, peer)
    });
    let mut stream = std::thread::spawn(move || {
        let error = runtime::block_on(async { stream.write_all(b"x").await.unwrap_err() });
        let message = error.to_string();
        assert!(message.contains("not running on this thread"), "{message}");
        assert!(
            message.contains("use it only inside that loop"),
            "{message}"
        );
        stream
    })
    .join()
    .unwrap();
    // Outside any loop, on its own thread: the loop is not running.
    let error = futures_executor_block_on(stream.write_all(b"x")).unwrap_err();
    assert!(error.to_string().contains("not running"), "{error}");
    // Back inside its loop: it works.
    rt.block_on(async {
        stream.write_all(b"hello").await.unwrap();
    });
    let mut got = [0u8; 5];
    std::io::Read::read_exact(&mut &peer, &mut got).unwrap();
    assert_eq!(&got, b"hello");
    drop(rt);
    // After its loop ended.
    let error = futures_executor_block_on(stream.read(&mut got)).unwrap_err();
    assert!(error.to_string().contains("has ended"), "{error}");
}

/// A timer polled where its loop is not running panics with a message
/// that says so (a `Future` has no error to return).
#[test]
fn a_sleep_polled_where_its_loop_is_not_running_panics_saying_so() {
    use std::future::Future;
    let rt = runtime::Runtime::new().unwrap();
    let mut sleep = Box::pin(runtime::time::sleep(std::time::Duration::from_secs(60)));
    rt.block_on(std::future::poll_fn(|cx| {
        assert!(sleep.as_mut().poll(cx).is_pending());
        std::task::Poll::Ready(())
    }));
    let panic = std::thread::spawn(move || {
        runtime::block_on(std::future::poll_fn(|cx| {
            let _ = sleep.as_mut().poll(cx);
            std::task::Poll::Ready(())
        }))
    })
    .join()
    .unwrap_err();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("this Sleep belongs to an event loop"),
        "{message}"
    );
}

/// A plain poll-until-ready executor, outside any looplet loop.
fn futures_executor_block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::yield_now();
    }
}
