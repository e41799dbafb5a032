"""How long per-agency templates take: 1,000 by default, into a temporary folder.

    python bench/bench_templates.py [N]

Prints the time for one template, for the batch, and templates per second."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from toolkit.formats import spec
from toolkit.reading.roster import RosterEntry
from toolkit.template import batch
from toolkit.template import writer as template


def main(n: int = 1000) -> None:
    fmt = spec.get()
    entries = [RosterEntry(f"樟树市第{i:04d}号测试单位", f"联系人{i}", f"unit{i}@example.cn") for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        template.render(fmt, agency="预热", year=2025)  # load the spec and YAML once
        t0 = time.perf_counter()
        template.write_template(Path(tmp) / "one.xlsx", fmt, agency="樟树市人力资源和社会保障局", year=2025)
        one = time.perf_counter() - t0

        t0 = time.perf_counter()
        paths = batch.write_batch(entries, Path(tmp) / "batch", year=2025, fmt=fmt)
        elapsed = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in paths) / len(paths)
    print(f"单个模板：{one * 1000:.1f} ms")
    print(f"{n} 个单位模板：{elapsed:.2f} s，{n / elapsed:.0f} 个/秒，平均 {size / 1024:.1f} KB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
