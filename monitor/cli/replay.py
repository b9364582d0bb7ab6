"""`outage-monitor replay`: serve the bundled real data under the real IODA and RIPE Atlas API paths,
so collectors can be tried offline (`collect ioda --base-url http://127.0.0.1:PORT/v2 ...`)."""

from __future__ import annotations

from monitor.errors import InputError
from monitor.replay import ReplayServer


def register(subparsers) -> None:
    p = subparsers.add_parser("replay", help="serve the bundled IODA and RIPE Atlas data locally (offline API replay)",
                              description="Serve data/ioda-iran-2019 and data/ripe-atlas-kenya-2016 under the "
                                          "real API paths until interrupted (Ctrl-C).")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (0 = any free port; default 8765)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every request, in milliseconds")
    p.add_argument("--synthetic", action="store_true",
                   help="also answer for entities without bundled data, with GENERATED values (benchmarks only)")
    p.add_argument("--data-dir", metavar="DIR", help="folder holding the bundled data (default: the repo's data/)")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    if args.latency_ms < 0 or not 0 <= args.port <= 65535:
        raise InputError("--latency-ms must be >= 0 and --port within 0..65535")
    try:
        server = ReplayServer(port=args.port, host=args.host, latency=args.latency_ms / 1000,
                              synthetic=args.synthetic, data_dir=args.data_dir)
    except OSError as exc:
        raise InputError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from exc
    urls = server.base_urls
    note = " (GENERATED values for entities without bundled data)" if args.synthetic else ""
    print(f"replaying bundled data at {server.url}{note}")
    for name, url in urls.items():
        print(f"  {name:<11} --base-url {url}")
    print("try:")
    print(f"  outage-monitor collect ioda --entity country/IR --from 2019-11-14 --until 2019-11-24 "
          f"--base-url {urls['ioda']}")
    print(f"  outage-monitor collect ripe-atlas --entity country/KE --from 2016-06-01 --until 2016-06-08 "
          f"--base-url {urls['ripe-atlas']}")
    print("Ctrl-C to stop", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.httpd.server_close()
    return 0
