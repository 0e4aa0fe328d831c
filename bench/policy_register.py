"""Policy register timings: adding (and checking) versions, the console pages, the report PDF.

Runs in a temporary data folder on SQLite (or ``--database-url``), through the real services
and the web app (TestClient), R times each (default 5), and prints medians:

(a) ``add_version`` of each bundled US Code text (4-21 KB): store, SHA-256, check, record;
(b) ``add_version`` of a large text (the bundled texts repeated to about ``--mb`` MB);
(c) an upload of that large text through the console form (multipart, CSRF, size cap);
(d) the policy page, the version diff page and the assessment page with 3 reviewers;
(e) the assessment report page and its PDF.

Usage::

    .venv/bin/python bench/policy_register.py [--repeat 5] [--mb 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from tipaudit.core.roles import Role
from tipaudit.services.container import build_services
from tipaudit.settings import Settings
from tipaudit.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ROOT / "src" / "tipaudit" / "policy" / "texts"
PASSWORD = "a long enough passphrase for the benchmark"


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mb", type=float, default=3.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        settings = Settings(
            data_dir=work / "data",
            database_url=args.database_url,
            secret_key="benchmark-secret-key-that-is-long-enough-0123456789",
        )
        services = build_services(settings)
        review = services.policies
        for name in ("ana", "lara", "pete"):
            services.accounts.create_user(name, PASSWORD, roles={Role.POLICY_ANALYST})
        texts = sorted(TEXTS.glob("*.md"))
        counter = iter(range(10_000))

        def add_small() -> None:
            n = next(counter)
            review.register("bench", name=f"Small {n}", slug=f"small-{n}", policy_type="other")
            for text in texts:
                review.add_version("bench", f"small-{n}", text, label=text.stem)

        small = _median(add_small, args.repeat) / len(texts)
        corpus = "\n\n".join(t.read_text(encoding="utf-8") for t in texts)
        big = work / "big.md"
        repeats = max(1, int(args.mb * 1024 * 1024 / len(corpus.encode())))
        big.write_text("\n\n".join(f"# Part {i}\n\n{corpus}" for i in range(repeats)), "utf-8")

        def add_big() -> None:
            n = next(counter)
            review.register("bench", name=f"Big {n}", slug=f"big-{n}", policy_type="other")
            review.add_version("bench", f"big-{n}", big, label="v1")

        large = _median(add_big, args.repeat)

        app = create_app(settings, services=services)
        client = TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False)
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
        assert token is not None
        client.post(
            "/login",
            data={"username": "ana", "password": PASSWORD, "csrf_token": token.group(1)},
        )
        review.register("bench", name="Uploads", slug="uploads", policy_type="other")
        body = big.read_bytes()

        def upload() -> None:
            page = client.get("/policies/uploads")
            match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
            assert match is not None
            n = next(counter)
            response = client.post(
                "/policies/uploads/versions",
                data={"csrf_token": match.group(1), "label": f"v{n}"},
                files={"document": ("big.md", body + f"\n{n}".encode(), "text/markdown")},
            )
            assert response.status_code == 303, response.text[:300]

        uploaded = _median(upload, args.repeat)

        slug = "small-0"
        versions = review.versions(slug)
        rubric = "tvpa-minimum-standards"
        assessment = review.start_assessment(
            "bench", slug, versions[-1].id, rubric, [("lara", "labour_rights"), ("pete", "legal")]
        )
        items = [i.item.id for i in review.assessment(assessment).items]
        for n, name in enumerate(("lara", "pete", "ana")):
            user = services.accounts.get_user(name)
            if name == "ana":
                review.join_assessment(user, assessment, "anti_trafficking")
            review.answer(
                user, assessment, {i: (("yes", "no", "partly")[(k + n) % 3], "") for k, i in
                                   enumerate(items)}
            )  # fmt: skip
        base = f"/policies/{slug}"
        timings = {
            "policy page": _median(lambda: client.get(base), args.repeat),
            "version diff page": _median(
                lambda: client.get(f"{base}/versions/{versions[-1].id}"), args.repeat
            ),
            "assessment page (3 reviewers)": _median(
                lambda: client.get(f"{base}/assessments/{assessment}"), args.repeat
            ),
            "report page": _median(
                lambda: client.get(f"{base}/assessments/{assessment}/report"), args.repeat
            ),
            "report PDF": _median(
                lambda: client.get(f"{base}/assessments/{assessment}/report.pdf"), args.repeat
            ),
        }
        services.close()
    size = len(body) / (1024 * 1024)
    print(f"| add_version, bundled text (mean of {len(texts)}) | {small * 1000:.0f} ms |")
    print(f"| add_version, {size:.1f} MB text | {large:.2f} s |")
    print(f"| console upload, {size:.1f} MB text | {uploaded:.2f} s |")
    for name, seconds in timings.items():
        print(f"| {name} | {seconds * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
