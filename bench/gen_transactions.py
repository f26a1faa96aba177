#!/usr/bin/env python3
"""Writes a transactions CSV of N rows (deterministic) for the import benchmark.

Columns: customer_id, at (ISO 8601 UTC), amount (2 decimals), quantity, channel.
"""
import random
import sys

def main() -> None:
    rows, path = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(42)
    channels = ["web", "app", "call centre"]
    with open(path, "w", buffering=1 << 20) as f:
        f.write("customer_id,at,amount,quantity,channel\n")
        for i in range(rows):
            f.write(
                f"C{rng.randrange(1_000_000):07d},2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
                f"T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z,"
                f"{rng.randrange(100, 100_000) / 100:.2f},{rng.randrange(1, 5)},{channels[i % 3]}\n"
            )

if __name__ == "__main__":
    main()
