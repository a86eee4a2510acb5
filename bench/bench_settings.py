"""Settings for benchmarks: the real app plus a bare ``/bench/hello`` on the same stack."""

from shopkeep.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
