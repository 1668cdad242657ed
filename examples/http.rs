//! A very small HTTP/1.1 server and client, enough for `curl`, a browser and
//! the `fetch_by_hand` example. Not a web framework: no chunked bodies, no
//! TLS, no header folding. It shows how little HTTP needs once bytes can be
//! awaited. What it does not parse it refuses, with a status that says so,
//! and closes the connection: a body it cannot measure (chunked, say) must
//! never be misread as the next request. For a real server, see hyper on
//! looplet (`examples/hyper_server.rs`).
//!
//! The server answers every `GET` with a short text; `/delay/MS` waits MS
//! milliseconds first (on a timer, so it holds no thread), which is what
//! makes concurrent fetching visible on a fast loopback. Connections are
//! kept alive between requests, as HTTP/1.1 says, unless the client sends
//! `Connection: close`.

use std::io;
use std::time::Duration;

use runtime::net::TcpStream;

/// Requests with more header bytes than this are refused (431).
const MAX_HEAD: usize = 16 * 1024;

/// One parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code, such as 200.
    pub status: u16,
    /// The body, as text.
    pub body: String,
}

// ANCHOR: server
/// Serves HTTP/1.1 requests on one connection until the client closes it or
/// asks to.
pub async fn handle(mut conn: TcpStream) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        let Some(head_len) = read_head(&mut conn, &mut buf).await? else {
            return Ok(()); // the client closed between requests
        };
        let head = String::from_utf8_lossy(&buf[..head_len]).into_owned();
        buf.drain(..head_len);
        let request = match Request::parse(&head) {
            Ok(request) => request,
            Err((status, why)) => {
                // Refuse, and close: what follows this head cannot be found.
                respond(&mut conn, status, why, false).await?;
                return Ok(());
            }
        };
        // A body we do not need must still be read, or it would be taken
        // for the next request.
        discard(&mut conn, &mut buf, request.content_length).await?;
        let body = match request.path.strip_prefix("/delay/").map(str::parse::<u64>) {
            Some(Ok(ms)) => {
                runtime::time::sleep(Duration::from_millis(ms)).await;
                format!("Hello from looplet, after {ms} ms.\n")
            }
            _ => format!("Hello from looplet! You asked for {}\n", request.path),
        };
        respond(&mut conn, 200, &body, request.keep_alive).await?;
        if !request.keep_alive {
            return Ok(());
        }
    }
}
// ANCHOR_END: server

/// A request's first line and the headers this server cares about.
struct Request {
    path: String,
    keep_alive: bool,
    content_length: usize,
}

impl Request {
    /// The request in `head`, or the status and text to refuse it with.
    fn parse(head: &str) -> Result<Request, (u16, &'static str)> {
        const BAD_LINE: (u16, &str) = (400, "a request line is METHOD PATH HTTP/1.1\n");
        let mut lines = head.split("\r\n");
        let mut first = lines.next().ok_or(BAD_LINE)?.split(' ');
        let (Some(_method), Some(path), Some(version)) = (first.next(), first.next(), first.next())
        else {
            return Err(BAD_LINE);
        };
        let mut request = Request {
            path: path.to_string(),
            // HTTP/1.1 keeps connections open unless told otherwise.
            keep_alive: version == "HTTP/1.1",
            content_length: 0,
        };
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("connection") {
                request.keep_alive = value.eq_ignore_ascii_case("keep-alive");
            } else if name.eq_ignore_ascii_case("content-length") {
                request.content_length = value
                    .parse()
                    .map_err(|_| (400, "Content-Length must be a number\n"))?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                // A chunked body's length is inside the body: this server
                // does not read it, so it must not pretend to.
                return Err((
                    501,
                    "this server reads only bodies with a Content-Length, \
                     not Transfer-Encoding (chunked) ones\n",
                ));
            }
        }
        Ok(request)
    }
}

/// Reads until `buf` holds a whole head (up to and including the blank
/// line). Returns its length, or `None` if the peer closed before sending
/// anything. Bytes after the head stay in `buf` for the next step.
async fn read_head(conn: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Option<usize>> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok(Some(end + 4));
        }
        if buf.len() > MAX_HEAD {
            respond(conn, 431, "request headers too large\n", false).await?;
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "headers too large",
            ));
        }
        let mut chunk = [0; 4096];
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Drops `len` body bytes, first from `buf`, then from the connection.
async fn discard(conn: &mut TcpStream, buf: &mut Vec<u8>, len: usize) -> io::Result<()> {
    let from_buf = len.min(buf.len());
    buf.drain(..from_buf);
    let mut rest = vec![0; len - from_buf];
    conn.read_exact(&mut rest).await
}

async fn respond(
    conn: &mut TcpStream,
    status: u16,
    body: &str,
    keep_alive: bool,
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        431 => "Request Header Fields Too Large",
        _ => "Not Implemented",
    };
    let connection = if keep_alive { "keep-alive" } else { "close" };
    // One write for head and body: one syscall, one TCP segment.
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: {connection}\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(response.as_bytes()).await
}

// ANCHOR: client
/// Fetches `url` (`http://host:port/path`) with a `GET` on a new connection,
/// like `aiohttp`'s `session.get(url)` without the session.
pub async fn get(url: &str) -> io::Result<Response> {
    let invalid =
        |why: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("{url:?}: {why}"));
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| invalid("only http:// URLs are supported"))?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut conn = TcpStream::connect(host).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    conn.write_all(request.as_bytes()).await?;

    let mut buf = Vec::new();
    let head_len = read_head(&mut conn, &mut buf)
        .await?
        .ok_or_else(|| invalid("the server closed the connection without answering"))?;
    let head = String::from_utf8_lossy(&buf[..head_len]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("the answer has no status code"))?;
    let length: usize = head
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .ok_or_else(|| invalid("the answer has no Content-Length"))?;
    let mut body = buf.split_off(head_len);
    let have = body.len();
    body.resize(length, 0);
    if have < length {
        conn.read_exact(&mut body[have..]).await?;
    }
    Ok(Response {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
// ANCHOR_END: client
