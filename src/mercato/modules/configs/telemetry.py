"""In-process module resource telemetry (platform contract §2.5.7): per API call of each module, wall time,
CPU time and RSS growth, aggregated overall and in 5-minute UTC buckets kept for 24 hours."""

from __future__ import annotations

import math
import os
import resource
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mercato.kernel.serialize import iso

BUCKET_MS = 300_000
KEEP_BUCKETS = 24 * 12
SURFACES = ("api", "subscriber", "worker", "operation")
THRESHOLD_ENV = {
    "p95DurationMs": ("OM_MODULE_RESOURCE_HEAVY_P95_MS", 5000),
    "cpuMs": ("OM_MODULE_RESOURCE_HEAVY_CPU_MS", 25000),
    "positiveHeapDeltaBytes": ("OM_MODULE_RESOURCE_HEAVY_HEAP_BYTES", 262_144_000),
    "positiveRssDeltaBytes": ("OM_MODULE_RESOURCE_HEAVY_RSS_BYTES", 262_144_000),
    "errors": ("OM_MODULE_RESOURCE_HEAVY_ERRORS", 10),
}


def _iso_ms(ms: float) -> str:
    return iso(datetime.fromtimestamp(ms / 1000, tz=UTC))


def _p95(values: list[float]) -> float:
    if not values:
        return 0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)], 3)


@dataclass
class OperationStats:
    module_id: str
    surface: str
    operation: str
    resource_id: str | None = None
    calls: int = 0
    errors: int = 0
    concurrent: int = 0
    durations: list[float] = field(default_factory=list)
    cpu_user: float = 0
    cpu_system: float = 0
    max_cpu: float = 0
    rss_total: float = 0
    rss_positive: float = 0
    rss_max: float = 0
    first_seen: float = 0
    last_seen: float = 0

    def add(self, duration: float, cpu_user: float, cpu_system: float, rss_delta: float, error: bool, now: float) -> None:
        self.calls += 1
        self.errors += int(error)
        self.durations.append(duration)
        if len(self.durations) > 1000:
            self.durations = self.durations[-1000:]
        self.cpu_user += cpu_user
        self.cpu_system += cpu_system
        self.max_cpu = max(self.max_cpu, cpu_user + cpu_system)
        self.rss_total += rss_delta
        self.rss_positive += max(rss_delta, 0)
        self.rss_max = max(self.rss_max, rss_delta)
        self.first_seen = self.first_seen or now
        self.last_seen = now

    def entry(self) -> dict[str, Any]:
        return {
            "moduleId": self.module_id, "surface": self.surface, "operation": self.operation,
            "resourceId": self.resource_id, "calls": self.calls, "errors": self.errors,
            "concurrentCalls": self.concurrent, "totalDurationMs": round(sum(self.durations), 3),
            "maxDurationMs": round(max(self.durations, default=0), 3), "p95DurationMs": _p95(self.durations),
            "totalCpuUserMs": round(self.cpu_user, 3), "totalCpuSystemMs": round(self.cpu_system, 3),
            "maxCpuMs": round(self.max_cpu, 3), "totalHeapDeltaBytes": 0, "positiveHeapDeltaBytes": 0,
            "maxHeapDeltaBytes": 0, "totalRssDeltaBytes": int(self.rss_total),
            "positiveRssDeltaBytes": int(self.rss_positive), "maxRssDeltaBytes": int(self.rss_max),
            "firstSeenAt": _iso_ms(self.first_seen), "lastSeenAt": _iso_ms(self.last_seen),
        }


class ModuleTelemetry:
    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.enabled = (env.get("OM_MODULE_RESOURCE_USAGE", "") or "").strip().lower() != "false"
        self.thresholds = {}
        for key, (name, default) in THRESHOLD_ENV.items():
            try:
                self.thresholds[key] = float(env.get(name) or default)
            except ValueError:
                self.thresholds[key] = default
            if self.thresholds[key] == int(self.thresholds[key]):
                self.thresholds[key] = int(self.thresholds[key])
        self.clear()

    def clear(self) -> None:
        self.started_ms = time.time() * 1000
        self.operations: dict[tuple[str, str, str], OperationStats] = {}
        self.buckets: dict[int, dict[tuple[str, str, str], OperationStats]] = {}

    @staticmethod
    def sample() -> tuple[float, float, float, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return time.perf_counter(), usage.ru_utime * 1000, usage.ru_stime * 1000, usage.ru_maxrss * 1024.0

    def record(self, module_id: str, surface: str, operation: str, start: tuple[float, float, float, float],
               error: bool = False) -> None:
        if not self.enabled:
            return
        end = self.sample()
        duration = (end[0] - start[0]) * 1000
        now = time.time() * 1000
        bucket_start = int(now // BUCKET_MS * BUCKET_MS)
        key = (module_id, surface, operation)
        targets = [self.operations, self.buckets.setdefault(bucket_start, {})]
        for target in targets:
            stats = target.get(key) or target.setdefault(key, OperationStats(module_id, surface, operation))
            stats.add(duration, end[1] - start[1], end[2] - start[2], end[3] - start[3], error, now)
        for old in sorted(self.buckets)[:-KEEP_BUCKETS]:
            self.buckets.pop(old, None)

    def _summaries(self, ops: dict[tuple[str, str, str], OperationStats]) -> list[dict[str, Any]]:
        by_module: dict[str, list[OperationStats]] = {}
        for stats in ops.values():
            by_module.setdefault(stats.module_id, []).append(stats)
        out = []
        for module_id, items in by_module.items():
            summary = _aggregate(items)
            surfaces = []
            for surface in SURFACES:
                chosen = [s for s in items if s.surface == surface]
                if chosen:
                    surfaces.append({"surface": surface, **_aggregate(chosen)})
            top = sorted(items, key=lambda s: (s.cpu_user + s.cpu_system, sum(s.durations)), reverse=True)[:5]
            reasons = self._reasons(summary)
            out.append({"moduleId": module_id, **summary, "surfaces": surfaces,
                        "topOperations": [s.entry() for s in top], "candidateReasons": reasons})
        out.sort(key=lambda m: (len(m["candidateReasons"]), m["totalCpuMs"], m["totalDurationMs"]), reverse=True)
        return out

    def _reasons(self, summary: dict[str, Any]) -> list[str]:
        t = self.thresholds
        checks = (("p95_duration", summary["p95DurationMs"] >= t["p95DurationMs"]),
                  ("cpu", summary["totalCpuMs"] >= t["cpuMs"]),
                  ("heap_allocations", summary["positiveHeapDeltaBytes"] >= t["positiveHeapDeltaBytes"]),
                  ("rss_growth", summary["positiveRssDeltaBytes"] >= t["positiveRssDeltaBytes"]),
                  ("errors", summary["errors"] >= t["errors"]))
        return [name for name, hit in checks if hit]

    def report(self, can_clear: bool) -> dict[str, Any]:
        modules = self._summaries(self.operations)
        now_ms = time.time() * 1000
        buckets = []
        for start in sorted(self.buckets):
            mods = self._summaries(self.buckets[start])
            totals = _totals(mods)
            totals.pop("operations")
            buckets.append({"bucketStart": _iso_ms(start), "bucketEnd": _iso_ms(start + BUCKET_MS),
                            "bucketIntervalMs": BUCKET_MS,
                            "stage": "startup" if start < self.started_ms + BUCKET_MS else "running",
                            "partial": now_ms < start + BUCKET_MS, "totals": totals, "modules": mods})
        totals = _totals(modules)
        totals["operations"] = len(self.operations)
        return {
            "generatedAt": _iso_ms(now_ms), "startedAt": _iso_ms(self.started_ms), "enabled": self.enabled,
            "bucketIntervalMs": BUCKET_MS, "totals": totals, "thresholds": dict(self.thresholds),
            "modules": modules, "candidates": [m for m in modules if m["candidateReasons"]], "buckets": buckets,
            "canClearTelemetry": can_clear,
        }


def _aggregate(items: list[OperationStats]) -> dict[str, Any]:
    durations = [d for s in items for d in s.durations]
    return {"calls": sum(s.calls for s in items), "errors": sum(s.errors for s in items),
            "totalDurationMs": round(sum(durations), 3), "p95DurationMs": _p95(durations),
            "totalCpuMs": round(sum(s.cpu_user + s.cpu_system for s in items), 3),
            "positiveHeapDeltaBytes": 0, "positiveRssDeltaBytes": int(sum(s.rss_positive for s in items))}


def _totals(modules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"modules": len(modules), "operations": 0, "calls": sum(m["calls"] for m in modules),
            "errors": sum(m["errors"] for m in modules),
            "totalDurationMs": round(sum(m["totalDurationMs"] for m in modules), 3),
            "totalCpuMs": round(sum(m["totalCpuMs"] for m in modules), 3), "positiveHeapDeltaBytes": 0,
            "positiveRssDeltaBytes": sum(m["positiveRssDeltaBytes"] for m in modules)}
