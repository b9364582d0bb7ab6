"""`outage-monitor collect SOURCE`: fetch a connectivity source into the store.

Without --from a collector resumes from its cursor (with a small overlap); with --from it
backfills, showing a progress bar on a terminal. Base URL: --base-url, else the config file's
[sources.<name>].base_url, else the source's public API.
"""

from __future__ import annotations

import logging

from monitor.collect import CollectSummary, EntityResult, collect
from monitor.entities import Entity
from monitor.errors import ConfigError, InputError
from monitor.sources.registry import SOURCES, get_source
from monitor.timeutil import iso

log = logging.getLogger("monitor.cli.collect")


def register(subparsers) -> None:
    p = subparsers.add_parser("collect", help="fetch a connectivity source (ioda, ripe-atlas, ...) into the store",
                              description="Fetch a connectivity source into the store, resuming from where "
                                          "the last run stopped unless --from is given.")
    p.add_argument("source", choices=list(SOURCES), help="the source to collect")
    p.add_argument("--entity", action="append", metavar="TYPE/CODE",
                   help="entity to collect, e.g. country/IR or asn/44244 (repeatable; default: [watch] entities)")
    p.add_argument("--from", dest="start", metavar="TIME", help="backfill from this time (ISO 8601 or unix seconds)")
    p.add_argument("--until", dest="end", metavar="TIME", help="stop at this time (default: now)")
    p.add_argument("--base-url", metavar="URL", help="API base URL (a mirror or `outage-monitor replay`)")
    p.add_argument("--datasource", action="append", metavar="NAME",
                   help="ioda only: fetch just this datasource (repeatable; default: all the server offers)")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    spec = get_source(args.source)
    if spec.credential_required and spec.credential() is None:
        # a skipped collection is a failure to the caller (cron, a script): nothing was collected
        raise ConfigError(f"{spec.name}: not collected, {spec.credential_env} is not set "
                          "(export it to use this source)")
    source_config = ctx.config.sources.get(spec.name)
    options = dict(source_config.options) if source_config else {}
    if args.datasource:
        if "datasources" not in spec.options:
            raise InputError(f"--datasource applies to ioda only, not {spec.name}")
        options["datasources"] = list(dict.fromkeys(args.datasource))
    base_url = args.base_url or (source_config.base_url if source_config else None) or spec.base_url
    summary = collect(ctx.new_store, spec.name, _entities(args, ctx, spec), start=args.start, end=args.end,
                      base_url=base_url, options=options, progress=args.start is not None)
    if ctx.verbosity >= 0:
        _print(summary)
    return 0 if summary.ok else 1


def _entities(args, ctx, spec) -> list[str]:
    """--entity values as given (unsupported types are errors), else the [watch] entities this
    source serves (others skipped with one line)."""
    if args.entity:
        return args.entity
    watched = [Entity.parse(e) for e in ctx.config.entities]
    served = [str(e) for e in watched if spec.supports(e)]
    skipped = [str(e) for e in watched if not spec.supports(e)]
    if skipped:
        log.info("%s: skipping %s (it serves %s entities only)", spec.name, ", ".join(skipped),
                 "/".join(spec.entity_types))
    if not served:
        raise InputError(f"{spec.name}: no entities to collect; pass --entity TYPE/CODE or list them "
                         "under [watch] entities in the config file")
    return served


def _print(summary: CollectSummary) -> None:
    for r in summary.results:
        print(_line(r))
    failed = sum(1 for r in summary.results if not r.ok)
    n = len(summary.results)
    print(f"{summary.source}: {n} {'entity' if n == 1 else 'entities'}, "
          f"{summary.requests} requests to {summary.base_url}"
          + (f", {failed} failed (run again to resume)" if failed else ""))


def _line(r: EntityResult) -> str:
    stored = [f"{r.points} points ({r.new_points} new or changed)"]
    if r.outages:
        stored.append(f"{r.outages} reference outages")
    if r.probe_events:
        stored.append(f"{r.probe_events} probe events")
    head = f"{r.entity}  {iso(r.start)} .. {iso(r.end)}  {r.windows_done}/{r.windows} windows: {', '.join(stored)}"
    if r.ok:
        return head
    return f"{head}; FAILED: {r.error}; " + (f"cursor at {iso(r.cursor)}" if r.cursor is not None else "no cursor yet")
