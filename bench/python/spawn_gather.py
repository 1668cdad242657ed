"""spawn_join in asyncio: create N trivial tasks, then gather them all.

Prints the seconds it took. Run by `cargo run --release -p bench` when
python3 is present: python3 spawn_gather.py N
"""
import asyncio
import sys
import time


async def trivial(i):
    return i


async def main(n):
    start = time.perf_counter()
    tasks = [asyncio.create_task(trivial(i)) for i in range(n)]
    results = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    assert sum(results) == n * (n - 1) // 2
    print(elapsed)


asyncio.run(main(int(sys.argv[1])))
