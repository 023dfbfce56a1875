"""What this CPU can do fast. AMX makes bf16 inference an order of magnitude faster than
f32 (benchmarks/RESULTS.md); AVX512-BF16 alone does not, and without AVX-512 every engine
runs f32. The fastest route depends on these flags, so they are read once here."""
from __future__ import annotations

import functools
import os
import platform
from typing import Dict, FrozenSet, Optional

# Flags that change which engine and precision run fastest, as /proc/cpuinfo names them.
SPEED_FLAGS = ("amx_tile", "amx_bf16", "amx_fp16", "avx512_bf16", "avx512_fp16", "avx512f", "avx2")
# What each value of oneDNN's ONEDNN_MAX_CPU_ISA leaves of SPEED_FLAGS. OpenVINO's CPU
# plugin and onnxruntime's oneDNN code obey that cap, but OpenVINO still reads the CPU's
# own flags when it picks a precision: asked for bf16 under a cap below AMX, it fails to
# compile. So the engines are chosen from the capped flags, as if on that older CPU.
_UP_TO_AVX2 = ("avx2",)
_UP_TO_AVX512 = _UP_TO_AVX2 + ("avx512f",)
_UP_TO_BF16 = _UP_TO_AVX512 + ("avx512_bf16",)
_UP_TO_FP16 = _UP_TO_BF16 + ("avx512_fp16",)
_UP_TO_AMX = _UP_TO_FP16 + ("amx_tile", "amx_bf16")
# The flags that compute each reduced precision in hardware.
HARDWARE = {"bf16": frozenset({"avx512_bf16", "amx_bf16"}), "f16": frozenset({"avx512_fp16", "amx_fp16"})}
ISA_CAPS = {
    "SSE41": (), "AVX": (), "AVX2": _UP_TO_AVX2, "AVX2_VNNI": _UP_TO_AVX2, "AVX2_VNNI_2": _UP_TO_AVX2,
    "AVX512_CORE": _UP_TO_AVX512, "AVX512_CORE_VNNI": _UP_TO_AVX512, "AVX512_CORE_BF16": _UP_TO_BF16,
    "AVX512_CORE_FP16": _UP_TO_FP16, "AVX10_1_512": _UP_TO_FP16, "AVX512_CORE_AMX": _UP_TO_AMX,
    "AVX10_1_512_AMX": _UP_TO_AMX, "AVX512_CORE_AMX_FP16": SPEED_FLAGS, "AVX10_1_512_AMX_FP16": SPEED_FLAGS,
}


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


def isa_cap() -> Optional[str]:
    """ONEDNN_MAX_CPU_ISA as oneDNN reads it (upper case), None where unset or not a cap
    (ALL, DEFAULT, or a value oneDNN does not know and ignores)."""
    value = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    return value if value in ISA_CAPS else None


def flags() -> FrozenSet[str]:
    """This CPU's flags among SPEED_FLAGS, less what ONEDNN_MAX_CPU_ISA holds the engines
    back from (empty where /proc/cpuinfo is not readable)."""
    found = frozenset(_cpuinfo().get("flags", "").split()) & frozenset(SPEED_FLAGS)
    cap = isa_cap()
    return found if cap is None else found & frozenset(ISA_CAPS[cap])


def bf16_pays() -> bool:
    """bf16 is the faster precision here, so `--precision auto` runs it: with AMX. On the
    2-core Sapphire Rapids, OpenVINO bf16 took 0.10 s a 368x368 COCO frame against f32's
    0.86 s; held to AVX512-BF16 without AMX (ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16, an
    emulation of Cooper Lake or Zen 4), bf16 took 1.27 s: slower than f32, so such CPUs
    run f32 unless asked (benchmarks/bench_speed.py)."""
    return bool(flags() & {"amx_bf16", "amx_tile"})


def describe() -> str:
    """e.g. 'Intel(R) Xeon(R) Processor (amx_tile avx2 avx512_bf16 avx512f)', for every
    figure; a cap is named, since the figures are then an emulation of an older CPU."""
    cap = f", ONEDNN_MAX_CPU_ISA={isa_cap()}" if isa_cap() else ""
    return f"{model_name()} ({' '.join(sorted(flags())) or 'no AVX2/AVX-512/AMX flags'}{cap})"
