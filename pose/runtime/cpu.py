"""What this CPU can do fast. AMX and AVX512-BF16 make bf16 inference an order of
magnitude faster than f32 (benchmarks/RESULTS.md), so the fastest route depends on them."""
from __future__ import annotations

import functools
import platform
from typing import Dict, FrozenSet

# Flags that change which engine and precision run fastest, as /proc/cpuinfo names them.
SPEED_FLAGS = ("amx_tile", "amx_bf16", "amx_fp16", "avx512_bf16", "avx512_fp16", "avx512f", "avx2")


@functools.lru_cache(maxsize=None)
def _cpuinfo() -> Dict[str, str]:
    info: Dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "flags") and key not in info:
                    info[key] = value.strip()
                if len(info) == 2:
                    break
    except OSError:  # not Linux: the flags stay unknown and nothing assumes them
        pass
    return info


def model_name() -> str:
    return _cpuinfo().get("model name") or platform.processor() or platform.machine() or "unknown CPU"


def flags() -> FrozenSet[str]:
    """This CPU's flags among SPEED_FLAGS (empty where /proc/cpuinfo is not readable)."""
    return frozenset(_cpuinfo().get("flags", "").split()) & frozenset(SPEED_FLAGS)


def native_bf16() -> bool:
    """bf16 runs in hardware (AMX or AVX512-BF16): OpenVINO's own CPU default is then bf16."""
    return bool(flags() & {"amx_bf16", "amx_tile", "avx512_bf16"})


def bf16_pays() -> bool:
    """bf16 is the faster precision here, so `--precision auto` runs it: with AMX. On the
    2-core Sapphire Rapids, OpenVINO bf16 took 0.10 s a 368x368 COCO frame against f32's
    0.86 s; held to AVX512-BF16 without AMX (ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16, an
    emulation of Cooper Lake or Zen 4), bf16 took 1.27 s: slower than f32, so such CPUs
    run f32 unless asked (benchmarks/bench_speed.py)."""
    return bool(flags() & {"amx_bf16", "amx_tile"})


def describe() -> str:
    """e.g. 'Intel(R) Xeon(R) Processor (amx_tile avx2 avx512_bf16 avx512f)', for every figure."""
    return f"{model_name()} ({' '.join(sorted(flags())) or 'no AVX-512/AMX flags'})"
