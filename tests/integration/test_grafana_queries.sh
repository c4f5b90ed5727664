# Every query of the Grafana dashboard (deploy/grafana/blindrelay.json) runs
# against a real Prometheus (Debian package) scraping a live blindrelay that
# relayed traffic over UDP and TCP (turnutils_uclient): each expression, with
# the dashboard's variables substituted as Grafana would, must be answered
# without error and with data, by the instant and the range query API; every
# metric name it uses must be one blindrelay exports; the instance variable's
# label_values() must list the server. The dashboard's structure is checked
# too: unique panel ids, a gridPos inside 24 columns and no overlap, the
# templated Prometheus datasource on every panel and target, the variables.
# A few values must show the load: UDP and TCP packets/s, allocations/s.
# blindrelay only (coturn has no such endpoint).
# Ports 61700-61749, relay ports 61750-61789.
source "$(dirname "$0")/lib.sh"

need "$BUILD/blindrelay" "$TESTCLIENT" turnutils_uclient turnutils_peer curl prometheus /usr/bin/python3
if [ "$BR_TEST_SERVER" = coturn ]; then
    log "skipped: coturn has no /metrics endpoint"
    exit 0
fi

DASHBOARD=$(cd "$(dirname "$0")/../.." && pwd)/deploy/grafana/blindrelay.json
[ -f "$DASHBOARD" ] || die "no dashboard at $DASHBOARD"

PORT=$(pick_stream_port 61700)
PEER_PORT=$(pick_port $((PORT + 1)))
# not PEER_PORT + 1: turnutils_uclient binds that too (its RTCP peer)
ADMIN_PORT=$(pick_stream_port $((PEER_PORT + 10)))
PROM_PORT=$(pick_stream_port $((ADMIN_PORT + 1)))
PROM=http://127.0.0.1:$PROM_PORT
USER=brgrafana
PASS=brgrafana-pass-1
INSTANCE=127.0.0.1:$ADMIN_PORT
T_START=$(date +%s)

# query EXPR: the first value of an instant query, or nothing.
query() {
    curl -sf --max-time 2 "$PROM/api/v1/query" --data-urlencode "query=$1" |
        /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null
}

# wait_scrapes N: waits (at most ~20 s) until Prometheus holds N more
# samples of up{job="blindrelay"} than when called.
wait_scrapes() {
    local want=$1 n0 n
    n0=$(query 'count_over_time(up{job="blindrelay"}[10m])')
    for _ in $(seq 40); do
        n=$(query 'count_over_time(up{job="blindrelay"}[10m])')
        [ $((${n:-0} - ${n0:-0})) -ge "$want" ] && return 0
        sleep 0.5
    done
    die "Prometheus did not scrape $want more times within ~20 s (samples ${n0:-none} -> ${n:-none})"
}

spawn "$WORK/peer.log" turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"
server_start grafana "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --relay-ports 61750-61789 \
    --realm blindrelay.test --allow-peer 127.0.0.0/8 --user "$USER:$PASS" --threads 2 \
    --admin-listen "$INSTANCE"
wait_tcp "127.0.0.1:$PORT"
log "server on $PORT (UDP and TCP), admin on $ADMIN_PORT, peer on $PEER_PORT"

mkdir -p "$WORK/prom"
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: blindrelay
    static_configs:
      - targets: ['$INSTANCE']
EOF
spawn "$WORK/prometheus.log" prometheus --config.file="$WORK/prometheus.yml" \
    --storage.tsdb.path="$WORK/prom" --web.listen-address="127.0.0.1:$PROM_PORT"
PROM_PID=$LAST_PID
up=
for _ in $(seq 60); do # at most ~30 s
    kill -0 "$PROM_PID" 2>/dev/null || break
    up=$(query 'up{job="blindrelay"}')
    [ "$up" = 1 ] && break
    sleep 0.5
done
if [ "$up" != 1 ]; then
    tail -5 "$WORK/prometheus.log" | sed 's/^/    /'
    die "Prometheus did not scrape blindrelay within ~30 s (up = '${up}')"
fi
pass "Prometheus on $PROM_PORT scrapes $INSTANCE (after $(($(date +%s) - T_START)) s)"

# Load: UDP and TCP clients relaying through channels, bounded.
T0=$(date +%s%N)
timeout 60 turnutils_uclient -n 40 -m 4 -c -l 120 -z 5 -e 127.0.0.1 -r "$PEER_PORT" \
    -u "$USER" -w "$PASS" -p "$PORT" 127.0.0.1 >"$WORK/uclient-udp.log" 2>&1 &
UDP_JOB=$!
timeout 60 turnutils_uclient -t -n 30 -m 2 -l 120 -z 5 -e 127.0.0.1 -r "$PEER_PORT" \
    -u "$USER" -w "$PASS" -p "$PORT" 127.0.0.1 >"$WORK/uclient-tcp.log" 2>&1
rc_tcp=$?
wait "$UDP_JOB"
rc_udp=$?
check_uclient_log "load over UDP" "$WORK/uclient-udp.log" "$rc_udp"
check_uclient_log "load over TCP" "$WORK/uclient-tcp.log" "$rc_tcp"
log "load took $((($(date +%s%N) - T0) / 1000000)) ms"
wait_scrapes 3
pass "Prometheus scraped 3 more times after the load"

# The dashboard: structure, then every query. Instant queries at now (the
# load ended within the 30 s rate window), range queries over the last 60 s.
if ! /usr/bin/python3 - "$DASHBOARD" "$PROM" "$INSTANCE" <<'EOF'
import json, re, sys, time, urllib.parse, urllib.request

path, prom, instance = sys.argv[1:4]
failures = 0
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only


def ok(msg):
    print("[test_grafana_queries] ok: " + msg)


def fail(msg):
    global failures
    failures += 1
    print("[test_grafana_queries] FAIL: " + msg)


def api(endpoint, **params):
    url = prom + endpoint + "?" + urllib.parse.urlencode(params, doseq=True)
    try:
        with opener.open(url, timeout=5) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:  # 400/422: a bad expression, with its error
        try:
            return json.load(e)
        except ValueError:
            return {"status": "error", "error": "HTTP %d" % e.code}
    except OSError as e:
        return {"status": "error", "error": str(e)}


with open(path) as f:
    dash = json.load(f)

# --- structure
DS_UID = "${datasource}"
if dash.get("schemaVersion", 0) < 36:
    fail("schemaVersion %s below 36" % dash.get("schemaVersion"))
if not dash.get("uid") or not dash.get("title"):
    fail("dashboard without uid or title")
variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
ds_var = variables.get("datasource", {})
if ds_var.get("type") != "datasource" or ds_var.get("query") != "prometheus":
    fail("no datasource variable of type prometheus: %s" % ds_var)
inst_var = variables.get("instance", {})
inst_q = inst_var.get("definition") or ""
m = re.fullmatch(r"label_values\((\w+)(\{[^}]*\})?,\s*(\w+)\)", inst_q)
if inst_var.get("type") != "query" or not m or m.group(3) != "instance":
    fail("no instance variable from label_values(..., instance): %r" % inst_q)
for name, v in variables.items():
    if name != "datasource" and (v.get("datasource") or {}).get("uid") != DS_UID:
        fail("variable %s does not use the datasource variable" % name)

panels = []
for p in dash.get("panels", []):
    panels.append(p)
    panels.extend(p.get("panels", []))  # collapsed rows keep theirs inside
ids = [p.get("id") for p in panels]
if len(set(ids)) != len(ids) or None in ids:
    fail("panel ids not unique: %s" % ids)
cells = {}
titles = set()
queries = []
for p in panels:
    title = p.get("title", "?")
    g = p.get("gridPos") or {}
    if not all(isinstance(g.get(k), int) for k in "hwxy") or g["x"] + g["w"] > 24 or g["w"] < 1:
        fail("panel %r: bad gridPos %s" % (title, g))
        continue
    for x in range(g["x"], g["x"] + g["w"]):
        for y in range(g["y"], g["y"] + g["h"]):
            if (x, y) in cells:
                fail("panel %r overlaps panel %r" % (title, cells[(x, y)]))
                break
            cells[(x, y)] = title
    ds = p.get("datasource") or {}
    if ds.get("type") != "prometheus" or ds.get("uid") != DS_UID:
        fail("panel %r: datasource %s, not the templated prometheus one" % (title, ds))
    if p.get("type") == "row":
        continue
    targets = p.get("targets") or []
    if not targets:
        fail("panel %r has no query" % title)
    if title in titles:
        fail("panel title %r used twice" % title)
    titles.add(title)
    refs = [t.get("refId") for t in targets]
    if len(set(refs)) != len(refs):
        fail("panel %r: refIds not unique: %s" % (title, refs))
    for t in targets:
        tds = t.get("datasource") or {}
        if tds.get("uid") != DS_UID:
            fail("panel %r %s: target datasource %s" % (title, t.get("refId"), tds))
        if not t.get("expr"):
            fail("panel %r %s: no expr" % (title, t.get("refId")))
            continue
        queries.append((title, t.get("refId"), t["expr"]))
ok("dashboard structure: %d panels, ids unique, titles unique, gridPos in 24 columns without overlap, "
   "templated prometheus datasource everywhere, %d queries" % (len(panels), len(queries)))

# --- the instance variable, as Grafana asks for it
r = api("/api/v1/label/%s/values" % m.group(3), **{"match[]": m.group(1) + (m.group(2) or "")}) if m else {}
if r.get("status") == "success" and instance in r.get("data", []):
    ok("variable instance: %s returns %s" % (inst_q, r["data"]))
else:
    fail("variable instance: %s returned %s" % (inst_q, r))

# --- every query
names = set(api("/api/v1/label/__name__/values").get("data", []))
exported = {n for n in names if n.startswith(("blindrelay_", "process_"))}
if not exported:
    fail("Prometheus holds no blindrelay metric")
esc = re.escape(instance).replace("\\", "\\\\")  # =~ takes a regex, in a PromQL string
subst = [(r"\$\{?__rate_interval\}?", "30s"), (r"\$\{?__interval\}?", "15s"),
         (r"\$\{?__range\}?", "1h"), (r"\$\{?instance(:regex)?\}?", esc)]
now = time.time()
values = {}
for title, ref, expr in queries:
    q = expr
    for pat, rep in subst:
        q = re.sub(pat, lambda _m: rep, q)
    where = "%r %s" % (title, ref)
    if "$" in q:
        fail("%s: a variable left unsubstituted: %s" % (where, q))
        continue
    unknown = sorted(set(re.findall(r"\b((?:blindrelay|process)_\w+)", q)) - exported)
    if unknown:
        fail("%s: names metrics blindrelay does not export: %s" % (where, unknown))
    r = api("/api/v1/query", query=q, time="%.3f" % now)
    if r.get("status") != "success" or r.get("error"):
        fail("%s: instant query failed: %s: %s" % (where, r.get("error"), q))
        continue
    res = r["data"]["result"]
    if not res:
        fail("%s: instant query returned no data: %s" % (where, q))
        continue
    rr = api("/api/v1/query_range", query=q, start="%.3f" % (now - 60), end="%.3f" % now, step="5")
    if rr.get("status") != "success" or not rr["data"]["result"]:
        fail("%s: range query failed or empty: %s: %s" % (where, rr.get("error"), q))
        continue
    values[(title, ref)] = res
    print("    %-40s %s  %d series  %s" % (title[:40], ref, len(res), q[:90]))
ok("%d of %d queries answered with data, instant and range" % (len(values), len(queries)))


# --- the load shows
def series(title, ref, **labels):
    for s in values.get((title, ref), []):
        if all(s["metric"].get(k) == v for k, v in labels.items()):
            return float(s["value"][1])
    return None


for title, ref, labels, what in [
        ("Relayed packets/s", "A", {"direction": "client_to_peer", "transport": "udp"}, "UDP packets/s client to peer"),
        ("Relayed packets/s", "A", {"direction": "peer_to_client", "transport": "tcp"}, "TCP packets/s peer to client"),
        ("Relayed bits/s", "A", {"direction": "client_to_peer", "transport": "udp"}, "UDP bits/s client to peer"),
        ("Allocations", "B", {}, "allocations created/s"),
        ("Connections accepted/s and open", "A", {"transport": "tcp"}, "TCP connections accepted/s")]:
    v = series(title, ref, **labels)
    if v is not None and v > 0:
        ok("%s: %.3g (panel %r)" % (what, v, title))
    else:
        fail("%s: %s in panel %r, expected above 0" % (what, v, title))
sys.exit(1 if failures else 0)
EOF
then
    fail "dashboard queries (see above)"
fi
kill -TERM "$PROM_PID" 2>/dev/null
server_stop
log "took $(($(date +%s) - T_START)) s"
finish
