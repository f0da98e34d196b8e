"""The product's settings, plus the bare baseline views the benchmarks compare against."""

from gonghao.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
