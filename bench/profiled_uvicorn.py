"""uvicorn under cProfile, for the benchmarks' BENCH_PROFILE option: the same arguments as
``python -m uvicorn``, and the profile written to $BENCH_PROFILE when the server stops
(uvicorn re-raises SIGTERM after shutting down, so the handler here writes it first)."""

from __future__ import annotations

import cProfile
import os
import signal
import sys

import uvicorn.main

profiler = cProfile.Profile()


def _stop(*_args) -> None:
    profiler.disable()
    profiler.dump_stats(os.environ["BENCH_PROFILE"])
    os._exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop)
    profiler.enable()
    try:
        uvicorn.main.main(sys.argv[1:])
    finally:
        _stop()
