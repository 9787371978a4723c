"""The lab's CPU-bound work: a pure function, importable cheaply by worker processes."""

import math


def count_primes(n: int) -> int:
    """Count the primes below n by trial division: pure Python, all CPU, no I/O.

    Deliberately naive so the time grows steadily with n (about n^1.5): on one core of a
    modest machine n=100_000 takes ~0.1 s and n=1_000_000 about 2 s.
    """
    count = 0
    for candidate in range(2, n):
        for divisor in range(2, math.isqrt(candidate) + 1):
            if candidate % divisor == 0:
                break
        else:
            count += 1
    return count
