//! The hyper server the hyper examples share (feature `hyper`): one port
//! for HTTP/1.1 and HTTP/2 (told apart by the first bytes), on the loop it
//! is spawned in, with `runtime::hyper`'s I/O, executor and timer.
//!
//! - `GET /` says hello;
//! - `POST /echo` streams the request body back as it arrives;
//! - `GET /delay/MS` answers after MS milliseconds, waited on a timer (the
//!   "database call" of the examples: it holds no thread);
//! - a client that starts a request and stalls is cut off after
//!   `HEADER_TIMEOUT`, by hyper, on looplet's timer.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use runtime::hyper::{Executor, Io, Timer};
use runtime::net::TcpListener;

/// How long a client may take to send a request's head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

type Body = BoxBody<Bytes, hyper::Error>;

fn text(body: String) -> Body {
    Full::new(Bytes::from(body))
        .map_err(|never| match never {})
        .boxed()
}

// ANCHOR: handle
/// The routes, as plain async code: asyncio's `async def handler(request)`.
pub async fn handle(request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().to_string();
    Ok(match (request.method().as_str(), path.as_str()) {
        ("POST", "/echo") => Response::new(request.into_body().boxed()),
        (_, delay) if delay.starts_with("/delay/") => {
            let ms = delay["/delay/".len()..].parse().unwrap_or(0);
            runtime::time::sleep(Duration::from_millis(ms)).await;
            Response::new(text(format!("answered after {ms} ms\n")))
        }
        _ => Response::new(text(format!(
            "hello from hyper on looplet ({:?})\n",
            request.version()
        ))),
    })
}
// ANCHOR_END: handle

// ANCHOR: serve
/// Accepts forever, serving each connection as its own task; counts the
/// connections in `accepted`.
pub async fn serve(listener: TcpListener, accepted: Arc<AtomicUsize>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors, most often: wait, then go on.
                eprintln!("accept failed: {e}; retrying in 50 ms");
                runtime::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        accepted.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        drop(runtime::spawn(async move {
            let mut builder = hyper_util::server::conn::auto::Builder::new(Executor);
            builder
                .http1()
                .timer(Timer)
                .header_read_timeout(HEADER_TIMEOUT);
            builder.http2().timer(Timer);
            let service = hyper::service::service_fn(handle);
            // A client that goes away mid-request is not the server's error.
            let _ = builder.serve_connection(Io::new(stream), service).await;
        }));
    }
}
// ANCHOR_END: serve
