"""The compiled engine (dedup.accel._core) and the span kernels (dedup.accel._spans: exact
substrings, per-item contamination), built at install where a C compiler exists.

Optional: without a compiler the install goes on and dedup runs its numba or numpy path,
which gives the same decisions (see README, "Installing").
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "dedup.accel._core",
            sources=["dedup/accel/csrc/core.c"],
            depends=["dedup/accel/csrc/hashing.h", "dedup/accel/csrc/tables.h", "dedup/accel/csrc/text.h",
                     "dedup/accel/csrc/noisy.h"],
            extra_compile_args=["-O3", "-std=c11", "-fno-strict-aliasing"],
            optional=True,
        ),
        Extension(
            "dedup.accel._spans",
            sources=["dedup/accel/csrc/spans.c"],
            depends=["dedup/accel/csrc/hashing.h"],
            extra_compile_args=["-O3", "-std=c11", "-fno-strict-aliasing"],
            optional=True,
        ),
    ]
)
