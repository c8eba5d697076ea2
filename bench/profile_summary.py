"""Where the time went, from a py-spy ``--format raw`` profile (collapsed stacks).

    python bench/profile_summary.py bench/results/<stamp>-durable-roomcast.txt

Prints each thread's share of the samples, then the functions with the largest share
of samples spent in them (self) and under them (inclusive). Start-up imports are left out.
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path


def summarize(path: Path, top: int = 25) -> str:
    own: collections.Counter[str] = collections.Counter()
    under: collections.Counter[str] = collections.Counter()
    threads: collections.Counter[str] = collections.Counter()
    names: dict[str, str] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or "importlib" in stack:
            continue
        samples = int(count)
        frames = stack.split(";")
        total += samples
        thread_id, _, name = frames[0].partition(":")
        threads[thread_id] += samples
        if name.strip():  # py-spy leaves the name out of some samples of a thread
            names[thread_id] = name.strip()
        own[frames[-1]] += samples
        for frame in set(frames[1:]):
            under[frame] += samples
    if not total:
        return f"{path}: no samples"
    lines = [f"{path.name}: {total} samples", "", "| thread | share |", "|---|---:|"]
    lines += [
        f"| {names.get(thread, thread)} | {100 * n / total:.1f} % |"
        for thread, n in threads.most_common(6)
    ]
    for title, counter in (("self", own), ("inclusive", under)):
        lines += ["", f"| function ({title}) | share |", "|---|---:|"]
        lines += [f"| `{name}` | {100 * n / total:.1f} % |" for name, n in counter.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(summarize(args.profile, args.top))


if __name__ == "__main__":
    main()
