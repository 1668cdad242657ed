"""The program that freezes asyncio: a coroutine whose awaits are always
ready never yields to the event loop, so nothing else runs until it ends.

The twin of examples/always_ready.rs. Run it with
    python3 examples/python/always_ready.py
A queue that is never empty: `await queue.get()` returns at once without
yielding (asyncio has no cooperative budget), so the 5 ms ticker does not
run a single time while the hog works.
"""
import asyncio
import time

ROUNDS = 1_000_000


async def ticker(ticks):
    while True:
        await asyncio.sleep(0.005)
        ticks[0] += 1


async def hog(queue):
    for _ in range(ROUNDS):
        item = await queue.get()  # never waits: always an item
        await queue.put(item + 1)  # never waits: no limit


async def main():
    ticks = [0]
    tick_task = asyncio.create_task(ticker(ticks))
    await asyncio.sleep(0)  # let the ticker start its first sleep
    queue = asyncio.Queue()
    await queue.put(0)
    start = time.perf_counter()
    await asyncio.create_task(hog(queue))
    took = time.perf_counter() - start
    tick_task.cancel()
    print(f"the hog did {ROUNDS} get+put rounds in {took:.2f} s")
    print(f"meanwhile the 5 ms ticker ran {ticks[0]} times "
          f"(about {int(took / 0.005)} expected)")


asyncio.run(main())
