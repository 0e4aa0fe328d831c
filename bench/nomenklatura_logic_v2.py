"""Score pairs with nomenklatura's logic-v2 (run with the .venv-nomenklatura interpreter).

    .venv-nomenklatura/bin/python bench/nomenklatura_logic_v2.py PAIRS.jsonl SCORES.jsonl

Reads one JSON object per line, ``{"pair": ID, "left": FTM_ENTITY, "right": FTM_ENTITY}``
(written by ``tipaudit.screening.evaluate.export_pairs``), and writes ``{"pair": ID, "score":
S, "features": {...}}`` per line. Prints the number of pairs and the time per pair to stderr.
This script imports nothing from tipaudit: nomenklatura 4.17.4 cannot be installed next to it
(create the environment with ``bench/nomenklatura_env.sh``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from followthemoney import EntityProxy
from nomenklatura.matching import LogicV2
from nomenklatura.matching.types import ScoringConfig


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    source, target = sys.argv[1], sys.argv[2]
    config = ScoringConfig.defaults()
    pairs = []
    with Path(source).open(encoding="utf-8") as handle:
        for line in handle:
            data = json.loads(line)
            pairs.append(
                (
                    data["pair"],
                    EntityProxy.from_dict(data["left"]),
                    EntityProxy.from_dict(data["right"]),
                )
            )
    warm = time.perf_counter()
    if pairs:
        LogicV2.compare(pairs[0][1], pairs[0][2], config)
    started = time.perf_counter()
    with Path(target).open("w", encoding="utf-8") as out:
        for pair_id, left, right in pairs:
            result = LogicV2.compare(left, right, config)
            features = {k: round(v.score, 4) for k, v in result.explanations.items() if v.score}
            out.write(
                json.dumps({"pair": pair_id, "score": round(result.score, 4), "features": features})
                + "\n"
            )
    elapsed = time.perf_counter() - started
    per_pair = elapsed / max(len(pairs), 1) * 1000
    print(
        f"logic-v2: {len(pairs)} pairs in {elapsed:.1f} s ({per_pair:.3f} ms per pair; "
        f"warm-up {started - warm:.1f} s)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
