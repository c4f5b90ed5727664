# The Kubernetes manifests (deploy/kubernetes), run, not only linted:
#  - lint: every file parses (python3-yaml) and `kubectl create
#    --dry-run=client` accepts it where kubectl reaches a cluster (without
#    one kubectl 1.3x cannot map kinds: reported, not failed);
#  - the DaemonSet's pod template, turned into a Pod by kube_pod.py (which
#    says what it changes), runs under `podman kube play` with the
#    ConfigMap and the Secrets: non-root, read-only root file system, no
#    capabilities, the secret file and certificate mounted;
#  - its probes (httpGet from the spec, as the kubelet does them) answer
#    200; turnutils_uclient relays through it over UDP and TCP with TURN
#    REST credentials of the Secret;
#  - its preStop command (run as the kubelet would, podman runs none)
#    drains: /readyz 503 at once, a TCP relay in progress loses nothing, the
#    hook returns when the last allocation ends; the SIGTERM that follows
#    stops it with status 0 well within terminationGracePeriodSeconds.
# Opt-in (BR_CONTAINER_TESTS=1): see container_lib.sh. Ports 61750-61799,
# relay ports 65050-65099.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/container_lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    log "blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$TESTCLIENT" turnutils_uclient turnutils_peer openssl curl "$PYTHON"
KUBE=$SRC/deploy/kubernetes

log "lint"
for f in "$KUBE"/*.yaml "$KUBE"/examples/*.yaml; do
    if "$PYTHON" -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    assert d["apiVersion"] and d["kind"] and d["metadata"]["name"], "apiVersion, kind, metadata.name"' "$f" 2>"$WORK/lint.log"; then
        pass "$(basename "$f") parses"
    else
        fail "$(basename "$f"): $(tail -1 "$WORK/lint.log")"
    fi
done
if command -v kubectl >/dev/null; then
    if kubectl create --dry-run=client -o name -f "$KUBE" >"$WORK/kubectl.log" 2>&1; then
        pass "kubectl create --dry-run=client accepts deploy/kubernetes"
    elif grep -q 'connection refused\|unable to recognize\|failed to download openapi' "$WORK/kubectl.log"; then
        log "kubectl dry-run not done: no cluster to validate against ($(tail -1 "$WORK/kubectl.log" | cut -c1-100))"
    else
        fail "kubectl create --dry-run=client: $(tail -3 "$WORK/kubectl.log")"
    fi
fi

POD=br-test-kube-$$
kube_cleanup() {
    podman pod rm -f "$POD" >/dev/null 2>&1
    lib_cleanup
}
trap kube_cleanup EXIT

container_setup

PORT=$(pick_stream_port 61750)
TLS_PORT=$(pick_stream_port $((PORT + 1)))
ADMIN_PORT=$(pick_stream_port $((TLS_PORT + 1)))
PEER_PORT=$(pick_port $((ADMIN_PORT + 1)))
SECRET=kube-secret-$$
make_cert server kube.test
mkdir -p "$WORK/kube"
"$PYTHON" "$(dirname "$0")/kube_pod.py" "$KUBE" "$WORK/kube" "$IMAGE" "$POD" "$PORT" "$TLS_PORT" \
    "$ADMIN_PORT" 65050-65099 "$SECRET" "token-$$" "$WORK/server.pem" "$WORK/server.key" ||
    die "kube_pod.py failed"
CTR=$POD-blindrelay

# probe_code readinessProbe|livenessProbe: the HTTP status of the spec's probe
probe_code() {
    local url
    url=$("$PYTHON" -c 'import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))["spec"]["containers"][0][sys.argv[2]]["httpGet"]
print("http://127.0.0.1:%s%s" % (c["port"], c["path"]))' "$WORK/kube/pod.yaml" "$1")
    curl -s -o /dev/null -m 2 -w '%{http_code}' "$url"
}

play() {
    local args=() f
    for f in "$WORK"/kube/configmap.yaml "$WORK"/kube/secret-*.yaml; do
        args+=(--configmap "$f")
    done
    podman kube play "${args[@]}" "$WORK/kube/pod.yaml" >"$WORK/play.log" 2>&1 ||
        die "podman kube play failed: $(grep -v '^\s' "$WORK/play.log" | tail -3)"
    for _ in $(seq 100); do
        [ "$(probe_code readinessProbe)" = 200 ] && return 0
        [ "$(podman inspect --format '{{.State.Running}}' "$CTR" 2>/dev/null)" = true ] || break
        sleep 0.1
    done
    podman logs "$CTR" 2>&1 | tail -20
    die "the pod did not become ready within 10 s"
}

log "podman kube play (ports $PORT/$TLS_PORT, admin $ADMIN_PORT)"
play
pass "readinessProbe (/readyz) answers 200"
[ "$(probe_code livenessProbe)" = 200 ] && pass "livenessProbe (/healthz) answers 200" ||
    fail "livenessProbe: $(probe_code livenessProbe)"
st=$(podman exec "$CTR" cat /proc/1/status)
uid=$(echo "$st" | awk '/^Uid:/ {print $2}')
capeff=$(echo "$st" | awk '/^CapEff:/ {print $2}')
[ "$uid" = "$IMAGE_UID" ] && pass "runs as uid $uid" || fail "runs as uid '$uid'"
[ "$capeff" = 0000000000000000 ] && pass "no capabilities" || fail "capabilities $capeff"
if podman exec "$CTR" sh -c 'touch /probe-ro' 2>/dev/null; then
    fail "the root file system is writable"
else
    pass "read-only root file system"
fi
grep -q 'SIGTERM\|drain' <(podman logs "$CTR" 2>&1) && fail "unexpected drain at start"

spawn "$WORK/peer.log" turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"
run_uclient() {
    local label=$1 out=$WORK/uclient-$1.log rc
    shift
    timeout 90 turnutils_uclient -n 50 -m 4 -l 170 -z 5 -e 127.0.0.1 -r "$PEER_PORT" -p "$PORT" \
        -u kube-rest -W "$SECRET" "$@" 127.0.0.1 >"$out" 2>&1
    rc=$?
    check_uclient_log "$label" "$out" "$rc"
}
run_uclient udp
run_uclient tcp -t

# uclient leaves its UDP allocations to expire: a new pod for the drain
podman pod kill --signal INT "$POD" >/dev/null 2>&1
podman pod rm -f "$POD" >/dev/null 2>&1
play

log "preStop during a TCP relay"
spawn "$WORK/uclient-drain.log" timeout 60 turnutils_uclient -n 300 -m 2 -l 170 -z 20 -e 127.0.0.1 \
    -r "$PEER_PORT" -p "$PORT" -t -u kube-rest -W "$SECRET" 127.0.0.1
UCLIENT_PID=$LAST_PID
for _ in $(seq 100); do
    grep -q 'tot_recv_msgs=[1-9]' "$WORK/uclient-drain.log" && break
    sleep 0.1
done
mapfile -t PRESTOP < <("$PYTHON" -c 'import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))["spec"]["containers"][0]
print("\n".join(c["lifecycle"]["preStop"]["exec"]["command"]))' "$WORK/kube/pod.yaml")
t0=$SECONDS
spawn "$WORK/prestop.log" timeout 60 podman exec "$CTR" "${PRESTOP[@]}"
PRESTOP_PID=$LAST_PID
ready=
for _ in $(seq 30); do
    ready=$(probe_code readinessProbe)
    [ "$ready" = 503 ] && break
    sleep 0.1
done
[ "$ready" = 503 ] && pass "readinessProbe turned 503 once preStop ran" || fail "readinessProbe answered '$ready' during preStop"
[ "$(probe_code livenessProbe)" = 200 ] && pass "livenessProbe stays 200 while draining" || fail "livenessProbe failed while draining"
wait "$UCLIENT_PID"
check_uclient_log drain-tcp "$WORK/uclient-drain.log" $?
wait "$PRESTOP_PID"
rc=$?
if [ $rc = 0 ] && grep -q 'no allocations left' "$WORK/prestop.log"; then
    pass "preStop returned after $((SECONDS - t0)) s, when the last allocation ended"
else
    fail "preStop: status $rc: $(tail -2 "$WORK/prestop.log")"
fi
grace=$("$PYTHON" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["spec"]["terminationGracePeriodSeconds"])' "$WORK/kube/pod.yaml")
t0=$SECONDS
podman pod stop -t "$grace" "$POD" >/dev/null 2>&1
code=$(podman inspect --format '{{.State.ExitCode}}' "$CTR")
[ "$code" = 0 ] && [ $((SECONDS - t0)) -lt 10 ] && pass "SIGTERM after preStop: exit status 0 in $((SECONDS - t0)) s" ||
    fail "SIGTERM after preStop: status $code after $((SECONDS - t0)) s"
podman logs "$CTR" 2>&1 | grep -q 'SIGUSR1: draining' && pass "the log shows the SIGUSR1 drain" ||
    fail "no SIGUSR1 drain in the log"
finish
