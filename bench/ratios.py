#!/usr/bin/env python3
"""Ratios of understudy (server "custom") to NSD and Knot from the TSV that
../shared/bench/bench_qps.sh writes: queries per second per server core
(QPS / (server CPU% / 100)), raw QPS and resident memory after zone load.

  ratios.py results.tsv
"""
import csv
import statistics
import sys


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def medians(rows):
    per_core = [number(r["qps"]) / (number(r["srv_cpu_pct"]) / 100.0)
                for r in rows if number(r["qps"]) and number(r["srv_cpu_pct"])]
    qps = [number(r["qps"]) for r in rows if number(r["qps"]) is not None]
    rss = [number(r["rss_load_mib"]) for r in rows if number(r["rss_load_mib"]) is not None]
    pick = lambda values: statistics.median(values) if values else None
    return {"qps_per_core": pick(per_core), "qps": pick(qps), "rss_mib": pick(rss)}


def ratio(mine, theirs):
    if mine is None or not theirs:
        return "-"
    return "%.2f" % (mine / theirs)


def main():
    with open(sys.argv[1]) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    modes = sorted({r["mode"] for r in rows})
    print("%-9s %-11s %12s %10s %9s   %s" % ("mode", "server", "QPS/core", "QPS", "RSS MiB", "understudy/this: QPS/core QPS RSS"))
    for mode in modes:
        table = {}
        for server in ("custom", "nsd", "knot", "bind"):
            subset = [r for r in rows if r["mode"] == mode and r["server"] == server]
            if subset:
                table[server] = medians(subset)
        mine = table.get("custom")
        for server, m in table.items():
            name = "understudy" if server == "custom" else server
            fmt = lambda v, nd=0: "-" if v is None else ("%." + str(nd) + "f") % v
            rel = ""
            if mine and server != "custom":
                rel = "%s %s %s" % (ratio(mine["qps_per_core"], m["qps_per_core"]),
                                    ratio(mine["qps"], m["qps"]),
                                    ratio(mine["rss_mib"], m["rss_mib"]))
            print("%-9s %-11s %12s %10s %9s   %s" % (mode, name, fmt(m["qps_per_core"]),
                                                    fmt(m["qps"]), fmt(m["rss_mib"], 1), rel))


if __name__ == "__main__":
    main()
