"""Turns deploy/kubernetes into what `podman kube play` runs (test_kubernetes.sh).

podman 4.3 plays Pods, Deployments, ConfigMaps and (as podman secrets)
Secrets, not DaemonSets, and knows no node: the DaemonSet's pod template
becomes a Pod, unchanged except for what the test must set:
  - the image (the one the test built);
  - status.hostIP (a node's address, which podman does not provide): NODE_IP
    becomes 127.0.0.1, everything built from it follows;
  - the ConfigMap's listen, tls-listen and relay-ports lines: the test's
    ports on loopback instead of 0.0.0.0:3478 and 49152-65535;
  - the Secrets' placeholders: the test's secret, token, certificate, key.
  - the admin port 9641: the test's ADMIN_PORT (9641 is the daemon's
    default, which another process on the machine may hold);
  - $(VAR) in env values and args is expanded as the kubelet does it
    (podman 4.3 passes it through literally);
  - the container's ports are left out (with hostNetwork they only
    document; podman 4.3 refuses port mappings on the host network);
  - secret volumes become configMap volumes of the same data (podman 4.3's
    kube play dereferences a nil pointer on a secret volume), the Secrets
    ConfigMaps with their stringData.
Usage: kube_pod.py DEPLOY_DIR OUT_DIR IMAGE POD_NAME PORT TLS_PORT
       ADMIN_PORT RELAY_PORTS SECRET TOKEN CERT KEY
Writes OUT_DIR/pod.yaml, OUT_DIR/configmap.yaml and OUT_DIR/secret-NAME.yaml.
"""
import os
import re
import sys

import yaml


def main():
    (deploy, out, image, pod_name, port, tls_port, admin_port, relay_ports,
     secret, token, cert, key) = sys.argv[1:13]
    docs = {}
    for name in sorted(os.listdir(deploy)):
        if name.endswith(".yaml"):
            with open(os.path.join(deploy, name)) as f:
                for d in yaml.safe_load_all(f):
                    docs[(d["kind"], d["metadata"]["name"])] = d

    ds = docs[("DaemonSet", "blindrelay")]
    tmpl = ds["spec"]["template"]
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": pod_name,
                        "labels": tmpl["metadata"]["labels"],
                        "annotations": tmpl["metadata"].get("annotations", {})},
           "spec": tmpl["spec"]}
    c = pod["spec"]["containers"][0]
    c["image"] = image
    c.pop("ports", None)
    for e in c["env"]:
        ref = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        if ref == "status.hostIP":
            del e["valueFrom"]
            e["value"] = "127.0.0.1"
    for v in pod["spec"]["volumes"]:
        if "secret" in v:
            sec = v.pop("secret")
            v["configMap"] = {"name": sec["secretName"],
                              "defaultMode": sec.get("defaultMode", 0o644)}
    text = yaml.safe_dump(pod, sort_keys=False)
    text, n = re.subn(r"\b9641\b", admin_port, text)
    if n < 4:
        sys.exit("kube_pod.py: admin port 9641 found %d times" % n)
    pod = yaml.safe_load(text)
    c = pod["spec"]["containers"][0]
    env = {}

    def expand(v):
        return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                      lambda m: env.get(m.group(1), m.group(0)), v)

    for e in c["env"]:
        e["value"] = env[e["name"]] = expand(e["value"])
    c["args"] = [expand(a) for a in c.get("args", [])]
    with open(os.path.join(out, "pod.yaml"), "w") as f:
        yaml.safe_dump(pod, f, sort_keys=False)

    cm = docs[("ConfigMap", "blindrelay-config")]
    conf = cm["data"]["blindrelay.conf"]
    for k, v in (("listen", "127.0.0.1:" + port),
                 ("tls-listen", "127.0.0.1:" + tls_port),
                 ("relay-ports", relay_ports)):
        conf, n = re.subn(r"(?m)^%s .*$" % re.escape(k), "%s %s" % (k, v),
                          conf)
        if n != 1:
            sys.exit("kube_pod.py: the ConfigMap has %d '%s' lines" % (n, k))
    conf += "allow-peer 127.0.0.0/8\nuser-quota 0\n"
    cm["data"]["blindrelay.conf"] = conf
    with open(os.path.join(out, "configmap.yaml"), "w") as f:
        yaml.safe_dump(cm, f, sort_keys=False)

    values = {"auth-secret": secret + "\n", "admin-token": token + "\n",
              "tls.crt": open(cert).read(), "tls.key": open(key).read()}
    for (kind, name), d in docs.items():
        if kind != "Secret":
            continue
        d = {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": name},
             "data": {k: values[k] for k in d["stringData"]}}
        with open(os.path.join(out, "secret-%s.yaml" % name), "w") as f:
            yaml.safe_dump(d, f, sort_keys=False)


main()
