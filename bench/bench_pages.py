"""In-process timings of the heavy pages (issue 17): the case list, the PoC dashboard and the
manager's weekly board, with `/ping` in the same run as the framework's floor.

Django's test client in a loop (no network, no server), production settings (DEBUG off, so the
cached template loader), warmed up first; each figure is the median (and p95) of `--runs` requests.
Subjects as in `bench_http.py`: the engagement with the most cases, its first named contact (the
PoC), that engagement's manager. Sessions are made with `force_login` (one session row each,
deleted at the end); nothing else is written.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/bench_pages.py \
        [--runs 200] [--lang en] [--profile board] [--dump var/pages]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")
os.environ["ALLOWED_HOSTS"] = "testserver,localhost"

from _dataset_env import QueryCounter, require_dataset  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.test import Client  # noqa: E402

from engagements.contacts.models import Contact  # noqa: E402
from engagements.contracts.models import Engagement  # noqa: E402
from portal.accounts.models import User  # noqa: E402
from portal.tenancy.scoping import system_scope  # noqa: E402


def subjects() -> tuple[Engagement, int, User, User]:
    with system_scope("page benchmark: pick the busiest engagement"):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT engagement_id, count(*) FROM cases_case "
                "GROUP BY engagement_id ORDER BY count(*) DESC, engagement_id LIMIT 1"
            )
            engagement_id, _count = cursor.fetchone()
            cursor.execute(
                "SELECT count(*) FROM cases_case c JOIN engagements_engagement e "
                "ON e.id = c.engagement_id WHERE e.organization_id = "
                "(SELECT organization_id FROM engagements_engagement WHERE id = %s)",
                [engagement_id],
            )
            (org_cases,) = cursor.fetchone()
        engagement = Engagement.objects.select_related("manager").get(pk=engagement_id)
        contact = (
            Contact.objects.filter(
                engagement=engagement, removed_at__isnull=True, user__is_active=True
            )
            .select_related("user")
            .order_by("added_at", "id")
            .first()
        )
        assert contact is not None and engagement.manager is not None
        return engagement, org_cases, contact.user, engagement.manager


def measure(client: Client, path: str, runs: int, lang: str) -> dict[str, float]:
    headers = {"HTTP_ACCEPT_LANGUAGE": lang}
    for _ in range(10):
        response = client.get(path, **headers)
        assert response.status_code == 200, (path, response.status_code)
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        client.get(path, **headers)
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get(path, **headers)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    times.sort()
    return {
        "p50": statistics.median(times),
        "cpu": statistics.median(cpu),
        "cpu_min": min(cpu),
        "p95": times[int(len(times) * 0.95) - 1],
        "queries": counter.count,
        "bytes": len(response.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--lang", default="en")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--profile", default=None, help="a page key: profile its runs instead")
    parser.add_argument("--dump", default=None, help="a folder: write each page's HTML there")
    args = parser.parse_args()
    require_dataset()
    engagement, org_cases, poc, manager = subjects()
    with system_scope("page benchmark: count the manager's engagements"):
        served = Engagement.objects.filter(Q(manager=manager) | Q(deputy=manager)).count()
    print(
        f"engagement {engagement.pk}; organization {engagement.organization_id} "
        f"({org_cases:,} cases); PoC {poc.pk}; manager {manager.pk} ({served} engagements)"
    )
    # The page's language is the user's (portal.middleware): set it for the run, then put back.
    languages = {user.pk: user.language for user in (poc, manager)}
    User.objects.filter(pk__in=list(languages)).update(language=args.lang)
    anonymous, as_poc, as_manager = Client(), Client(), Client()
    as_poc.force_login(poc)
    as_manager.force_login(manager)
    pages = {
        "ping": (anonymous, "/ping"),
        "cases": (as_poc, "/cases/"),
        "cases_manager": (as_manager, "/cases/"),
        "dashboard": (as_poc, "/"),
        "board": (as_manager, "/board/"),
    }
    try:
        if args.dump:
            folder = Path(args.dump)
            folder.mkdir(parents=True, exist_ok=True)
            for key, (client, path) in pages.items():
                body = client.get(path, HTTP_ACCEPT_LANGUAGE=args.lang).content
                (folder / f"{key}.{args.lang}.html").write_bytes(body)
            return
        if args.profile:
            client, path = pages[args.profile]
            measure(client, path, 5, args.lang)
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.runs):
                client.get(path, HTTP_ACCEPT_LANGUAGE=args.lang)
            profile.disable()
            profile.dump_stats(ROOT / "var" / f"bench_pages_{args.profile}.prof")
            stats = pstats.Stats(profile)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(30)
            return
        print(
            f"{'page':<14} {'p50 ms':>8} {'p95 ms':>8} {'cpu ms':>8} {'cpu min':>8} {'queries':>8} "
            f"{'bytes':>8}"
        )
        for key, (client, path) in pages.items():
            if args.only and key not in args.only and key != "ping":
                continue
            figures = measure(client, path, args.runs, args.lang)
            print(
                f"{key:<14} {figures['p50']:8.1f} {figures['p95']:8.1f} "
                f"{figures['cpu']:8.1f} {figures['cpu_min']:8.1f} "
                f"{figures['queries']:8d} {figures['bytes']:8d}"
            )
    finally:
        for client in (as_poc, as_manager):
            client.logout()
        for pk, language in languages.items():
            User.objects.filter(pk=pk).update(language=language)


if __name__ == "__main__":
    main()
