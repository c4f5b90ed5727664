#!/bin/sh
# Mints a short-lived TURN credential with the TURN REST API scheme that
# blindrelay (auth-secret / auth-secret-file), coturn, eturnal and pion
# accept:
#   username   = "<unix expiry time>:<id>"
#   credential = base64(HMAC-SHA1(shared secret, username))
# Your signaling server does the same for each browser session; this script
# is for trying things out and for operators' smoke tests.
#
# usage: mint-credential.sh [-f SECRET_FILE | -s SECRET] [-t TTL_SECONDS] [-i ID]
#                           [-u TURN_URL]
#   -f  file as given to --auth-secret-file (the first secret in it is used;
#       blank lines and '#' comments skipped)
#   -s  the secret itself (visible in the process list: prefer -f)
#   -t  lifetime in seconds (default 86400)
#   -i  id part of the username (default: a random one)
#   -u  print an iceServers entry for this URL (repeatable) instead of two lines
#       (e.g. "turn:127.0.0.1:3478?transport=udp")
# Output without -u: the username on the first line, the credential on the second.
set -eu

usage() {
    sed -n '/^# usage:/,/^# Output/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

secret_file="" secret="" ttl=86400 id="" url=""
while getopts "f:s:t:i:u:h" opt; do
    case $opt in
    f) secret_file=$OPTARG ;;
    s) secret=$OPTARG ;;
    t) ttl=$OPTARG ;;
    i) id=$OPTARG ;;
    u) url="${url:+$url, }\"$OPTARG\"" ;;
    *) usage ;;
    esac
done

command -v openssl >/dev/null || { echo "mint-credential: needs openssl" >&2; exit 1; }
case $ttl in
'' | *[!0-9]*) echo "mint-credential: -t: expected seconds, got '$ttl'" >&2; exit 2 ;;
esac
if [ -n "$secret_file" ]; then
    [ -r "$secret_file" ] || { echo "mint-credential: cannot read $secret_file" >&2; exit 1; }
    # first non-blank, non-comment line, trimmed (as blindrelay reads it)
    secret=$(sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$secret_file" |
        grep -v -e '^$' -e '^#' | head -n 1)
fi
[ -n "$secret" ] || { echo "mint-credential: no secret (use -f FILE or -s SECRET)" >&2; usage; }
case $id in
*:*) echo "mint-credential: -i: the id must not contain ':'" >&2; exit 2 ;;
'') id=$(openssl rand -hex 8) ;;
esac

username="$(($(date +%s) + ttl)):$id"
# openssl gets the key as an argument: it is visible in /proc for the
# instant openssl runs. Mint in your signaling server on shared hosts.
credential=$(printf '%s' "$username" | openssl dgst -sha1 -mac HMAC -macopt "key:$secret" -binary |
    openssl base64 -A)

if [ -n "$url" ]; then
    printf '{"urls": [%s], "username": "%s", "credential": "%s"}\n' "$url" "$username" "$credential"
else
    printf '%s\n%s\n' "$username" "$credential"
fi
