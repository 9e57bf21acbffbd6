#!/usr/bin/env python3
"""gen_logs.py OUTDIR MB [SEED [MIX]]: mixed network logs for the log bench (issue 14), in the
shares of a small site's day: a Zeek conn log (TSV with its full #separator ... #types header),
an nginx combined access log and a dnsmasq query log, about 34%, 38% and 28% of MB each.
MIX is how the Zeek connections go out:
  worst      (the default) every connection to a random outside address, a fifth of them
             uploads of 2-8 MB: nearly every upload is a new (inside, outside) pair, so a
             finding and an event each - the worst case for the verdict and the reports;
  realistic  destinations drawn from a Zipf-like popularity (weight 1/rank) over 3,000
             outside sites, 1% of the connections uploads of 2-8 MB; the rest as in worst;
  hospital   as realistic, but every inside address (connections, web clients, DNS clients)
             drawn from 2,000 hosts, as a hospital has hundreds to a few thousand: the
             (inside, outside) pairs repeat, as on a real site (the other mixes draw inside
             hosts from 195 k addresses, so nearly every connection is its own pair).
Deterministic for a seed and mix; written in chunks, so memory stays small whatever MB."""
import os
import random
import sys

ZEEK_HEAD = ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
             "#path\tconn\n#open\t2023-11-14-22-00-00\n"
             "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\t"
             "duration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\t"
             "missed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\t"
             "tunnel_parents\n"
             "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\t"
             "string\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n")
T0 = 1700000000  # 2023-11-14 22:00:00 UTC


def inside(r):
    if HOSTS:
        return HOSTS[r.randrange(len(HOSTS))]
    return "10.%d.%d.%d" % (r.randint(1, 3), r.randint(0, 255), r.randint(1, 254))


HOSTS = []  # hospital mix: the inside hosts, filled by main(); empty for the other mixes


def conn_line(r, i):
    ts = T0 + i * 0.05 + r.random() * 0.05
    svc, port = r.choice((("ssl", 443), ("http", 8080), ("http", 80), ("-", 22)))
    dur = r.random() * 10
    out = r.randint(200, 60000) if r.random() > 0.2 else r.randint(2000000, 8000000)
    back = r.randint(200, 100000)
    return ("%.6f\tC%016x\t%s\t%d\t%d.%d.%d.%d\t%d\ttcp\t%s\t%.6f\t%d\t%d\tSF\tT\tF\t0\t"
            "ShADadFf\t%d\t%d\t%d\t%d\t-\n" % (
                ts, r.getrandbits(64), inside(r), r.randint(1024, 65535), r.randint(1, 223),
                r.randint(0, 255), r.randint(0, 255), r.randint(1, 254), port, svc, dur, out,
                back, out // 1400 + 1, out + 40, back // 1400 + 1, back + 40))


SITES = []  # realistic mix: (address, cumulative weight), filled by main()


def zipf_sites(r, n=3000):
    sites = ["%d.%d.%d.%d" % (r.randint(1, 223), r.randint(0, 255), r.randint(0, 255),
                              r.randint(1, 254)) for _ in range(n)]
    cum, total = [], 0.0
    for k in range(1, n + 1):
        total += 1.0 / k
        cum.append(total)
    return sites, cum


def conn_line_realistic(r, i):
    ts = T0 + i * 0.05 + r.random() * 0.05
    svc, port = r.choice((("ssl", 443), ("http", 8080), ("http", 80), ("-", 22)))
    dur = r.random() * 10
    out = r.randint(200, 60000) if r.random() > 0.01 else r.randint(2000000, 8000000)
    back = r.randint(200, 100000)
    dst = r.choices(SITES[0], cum_weights=SITES[1])[0]
    return ("%.6f\tC%016x\t%s\t%d\t%s\t%d\ttcp\t%s\t%.6f\t%d\t%d\tSF\tT\tF\t0\t"
            "ShADadFf\t%d\t%d\t%d\t%d\t-\n" % (
                ts, r.getrandbits(64), inside(r), r.randint(1024, 65535), dst, port, svc, dur,
                out, back, out // 1400 + 1, out + 40, back // 1400 + 1, back + 40))


def access_line(r, i):
    t = T0 + i
    return ('%s - - [%s +0000] "GET /app/page/%d?x=%d HTTP/1.1" 200 %d "-" '
            '"Mozilla/5.0 (X11; Linux x86_64)"\n' % (
                inside(r), _clf(t), r.randint(1, 999), r.randint(1, 99999), r.randint(200, 20000)))


def dns_line(r, i):
    t = T0 + i
    return "%s gw dnsmasq[812]: query[A] host%d.example%d.com from %s\n" % (
        _syslog(t), r.randint(1, 99999), r.randint(1, 99), inside(r))


MON = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _parts(t):
    import time
    return time.gmtime(t)


def _clf(t):
    g = _parts(t)
    return "%02d/%s/%d:%02d:%02d:%02d" % (g.tm_mday, MON[g.tm_mon - 1], g.tm_year, g.tm_hour,
                                           g.tm_min, g.tm_sec)


def _syslog(t):
    g = _parts(t)
    return "%s %2d %02d:%02d:%02d" % (MON[g.tm_mon - 1], g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec)


def write(path, head, line, budget, r):
    with open(path, "w") as fh:
        fh.write(head)
        size, i, chunk = len(head), 0, []
        while size < budget:
            s = line(r, i)
            chunk.append(s)
            size += len(s)
            i += 1
            if len(chunk) == 10000:
                fh.write("".join(chunk))
                chunk = []
        fh.write("".join(chunk))
    return i


def main():
    out, mb = sys.argv[1], float(sys.argv[2])
    r = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    mix = sys.argv[4] if len(sys.argv) > 4 else "worst"
    if mix not in ("worst", "realistic", "hospital"):
        sys.exit("gen_logs: MIX is worst, realistic or hospital")
    conn = conn_line
    if mix in ("realistic", "hospital"):
        SITES[:] = zipf_sites(random.Random(r.getrandbits(32)))
        conn = conn_line_realistic
    if mix == "hospital":
        h = random.Random(r.getrandbits(32))
        HOSTS[:] = sorted({"10.%d.%d.%d" % (h.randint(1, 3), h.randint(0, 255), h.randint(1, 254))
                           for _ in range(2000)})
    os.makedirs(out, exist_ok=True)
    total = mb * 1e6
    n = (write(os.path.join(out, "conn.log"), ZEEK_HEAD, conn, total * 0.34, r),
         write(os.path.join(out, "access.log"), "", access_line, total * 0.38, r),
         write(os.path.join(out, "dnsmasq.log"), "", dns_line, total * 0.28, r))
    print("gen_logs: %s (%s): %d conn, %d access, %d dnsmasq lines" % (out, mix, *n))


if __name__ == "__main__":
    main()
