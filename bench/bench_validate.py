"""Events per second through the validator alone (no database), on one core, for each of its
paths: the JSON fast path (a block of lines as a parser worker takes it: msgspec, then orjson
and the checked way for the odd lines), the decoded-event path (event_to_copy_line: the one-pass
check, else rule by rule, as the CSV reader and the API use it) and the checked path alone
(_checked_copy_line on every event).

    python bench/bench_validate.py [--events 100000] [--repeats 7] [--before /path/to/checkout]

--before: the same paths of another checkout (e.g. main before a change), loaded in the same
process and timed turn about with this one, so that both meet the same load on a shared
machine. Figures are CPU time of the process, the best of the repeats.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load(root: Path):
    """validate and parallel of the checkout at `root`, imported afresh."""
    for name in [name for name in sys.modules if name == "assets" or name.startswith("assets.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        validate = importlib.import_module("warehouse.ingestion.validate")
        parallel = importlib.import_module("warehouse.ingestion.parallel")
    finally:
        sys.path.remove(str(root))
    assert Path(validate.__file__).is_relative_to(root), validate.__file__
    return validate, parallel


def _window_kwargs(function, window) -> dict:
    """Older code takes no window."""
    return {"window": window} if "window" in inspect.signature(function).parameters else {}


def _paths(validate, parallel, window, lines: list[bytes], decoded: list) -> dict:
    block_size = 8_000  # about the 2 MB blocks the parser workers take
    blocks = [b"\n".join(lines[i:i + block_size]) for i in range(0, len(lines), block_size)]
    block_kwargs = _window_kwargs(parallel.parse_block, window)

    def json_fast_path():
        for block in blocks:
            parallel.parse_block(block, 1, **block_kwargs)

    def each(function):
        kwargs = _window_kwargs(function, window)
        rejected = validate.Rejected

        def run():
            for event in decoded:
                try:
                    function(event, **kwargs)
                except rejected:
                    pass
        return run

    return {"json fast path (parse_block)": (len(lines), json_fast_path),
            "decoded events (event_to_copy_line)": (len(decoded),
                                                    each(validate.event_to_copy_line)),
            "checked path (_checked_copy_line)": (len(decoded),
                                                  each(validate._checked_copy_line))}


def _cpu_seconds(run) -> float:
    started = time.process_time()
    run()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--before", type=Path, default=None,
                        help="another checkout whose validator is timed turn about with this one")
    options = parser.parse_args()

    validate, parallel = _load(ROOT)
    import orjson

    from warehouse.sample_data import generate

    with tempfile.TemporaryDirectory(prefix="wfa-bench-validate-") as folder:
        generate(Path(folder), events=options.events, days=30, seed=3, malformed_rate=0.01)
        lines = [raw for path in sorted((Path(folder) / "events").glob("*.jsonl"))
                 for raw in path.read_bytes().splitlines() if raw.strip()]
    decoded = []
    for raw in lines:
        try:
            decoded.append(orjson.loads(raw))
        except orjson.JSONDecodeError:
            pass
    window = validate.EventWindow.ending_after(validate.utc_now())
    sides = {"this": _paths(validate, parallel, window, lines, decoded)}
    if options.before is not None:
        sides["before"] = _paths(*_load(options.before.resolve()), window, lines, decoded)

    print(f"{len(lines):,} lines ({len(decoded):,} decoded events); events/s, CPU time of one"
          f" process, best of {options.repeats}")
    print(f"{'':<40}" + "".join(f"{side:>12}" for side in sides)
          + ("       ratio" if len(sides) == 2 else ""))
    for name in sides["this"]:
        best = {side: float("inf") for side in sides}
        for _ in range(options.repeats):
            for side, paths in sides.items():  # turn about
                best[side] = min(best[side], _cpu_seconds(paths[name][1]))
        count = sides["this"][name][0]
        rates = {side: count / seconds for side, seconds in best.items()}
        line = f"{name:<40}" + "".join(f"{rate:>12,.0f}" for rate in rates.values())
        if len(sides) == 2:
            line += f"{rates['this'] / rates['before']:>12.2f}"
        print(line)


if __name__ == "__main__":
    main()
