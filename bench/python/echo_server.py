"""The echo server in asyncio, for the bench's echo lines: prints
`port N`, serves until its stdin closes. Same protocol as the Rust
servers: read up to 4 KiB, write it back, until end of stream.
"""
import asyncio
import sys


async def echo(reader, writer):
    try:
        while True:
            data = await reader.read(4096)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(echo, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(f"port {port}", flush=True)
    loop = asyncio.get_running_loop()
    # Stop when the parent closes our stdin.
    await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main())
