"""What the ledger costs a large campaign: recording a check of N files (10 % failing, 5
findings each) in one transaction, recording N collected messages one transaction each
(as collect does), and computing the status of N agencies (what `disclosure status` and
汇总.xlsx's 报送进度 do), on a fresh ledger file in a temporary folder.

Usage:  python bench/bench_ledger.py [N ...]      (default 1000 10000)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from toolkit.ledger import Ledger  # noqa: E402
from toolkit.outputs.status import progress  # noqa: E402
from toolkit.reading.roster import RosterEntry  # noqa: E402


def run(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, Ledger(Path(tmp) / "bench.db") as ledger:
        names = [f"示例县第{i}局" for i in range(n)]
        t = time.perf_counter()
        ledger.record_roster([RosterEntry(name, "联系人", f"a{i}@example.cn") for i, name in enumerate(names)])
        roster = time.perf_counter() - t

        t = time.perf_counter()
        for i, name in enumerate(names):
            ledger.record_message({"message_id": f"<{i}@example.cn>", "date": "2026-01-05T09:30:00+08:00",
                                   "agency": name}, [{"path": f"/r/{i}.xlsx", "sha256": f"{i:064x}", "agency": name}])
        collected = time.perf_counter() - t

        verdicts = [dict(path=f"/r/{i}.xlsx", sha256=f"{i:064x}", agency=name,
                         status="fail" if i % 10 == 0 else "pass", errors=5 if i % 10 == 0 else 0, warnings=0,
                         findings=[dict(rule="R3", severity="error", sheet="三", cell=f"J{k}", message="…")
                                   for k in range(5)] if i % 10 == 0 else [])
                    for i, name in enumerate(names)]
        t = time.perf_counter()
        ledger.record_check("/out", verdicts)
        checked = time.perf_counter() - t

        t = time.perf_counter()
        state = progress(ledger)
        status = time.perf_counter() - t
        assert len(state.agencies) == n
        size = (Path(tmp) / "bench.db").stat().st_size
    print(f"N={n:>6}: roster {roster * 1000:7.0f} ms | collect {n} messages (1 transaction each) "
          f"{collected:6.2f} s ({n / collected:,.0f}/s) | one check {checked * 1000:6.0f} ms | "
          f"status {status * 1000:6.0f} ms | ledger {size / 1e6:.1f} MB")


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["1000", "10000"]:
        run(int(arg))
