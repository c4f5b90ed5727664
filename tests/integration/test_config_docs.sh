# docs/configuration.md against the binary: every key blindrelay knows
# (blindrelay --print-keys) has a row in one of the page's key tables
# ("| Key | Default | Reload | ..."), every row names a key it knows, and
# each row's default and Reload mark are the binary's. A default cell
# starting with "none" means none; otherwise its `quoted` values, joined
# by spaces, are the default ("`0.0.0.0:3478` and `[::]:3478`"). No
# server is started.
source "$(dirname "$0")/lib.sh"

if [ "$BR_TEST_SERVER" != blindrelay ]; then
    echo "[$TEST_NAME] blindrelay-specific; nothing to do for $BR_TEST_SERVER"
    exit 0
fi
need "$BUILD/blindrelay" awk
DOC=${BR_CONFIG_DOC:-$(cd "$(dirname "$0")/../.." && pwd)/docs/configuration.md}
[ -r "$DOC" ] || die "cannot read $DOC"

"$BUILD/blindrelay" --print-keys >"$WORK/keys" || die "blindrelay --print-keys failed"
[ -s "$WORK/keys" ] || die "blindrelay --print-keys printed nothing"

# The rows of the key tables: NAME<TAB>DEFAULT<TAB>RELOAD<TAB>LINE.
awk -F'|' '
    function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
    /^\| *Key *\| *Default *\| *Reload *\|/ { in_table = 1; next }
    in_table && /^\|[- |]*$/ { next }
    in_table && /^\|/ {
        name = trim($2); def = trim($3); mark = trim($4)
        gsub(/`/, "", name)
        if (def ~ /^none/) {
            def = "none"
        } else if (def ~ /`/) {
            out = ""; rest = def
            while (match(rest, /`[^`]*`/)) {
                out = out (out == "" ? "" : " ") substr(rest, RSTART + 1, RLENGTH - 2)
                rest = substr(rest, RSTART + RLENGTH)
            }
            def = out
        }
        printf "%s\t%s\t%s\t%d\n", name, def, mark, NR
        next
    }
    { in_table = 0 }
' "$DOC" >"$WORK/doc_rows"
[ -s "$WORK/doc_rows" ] || die "no key table (| Key | Default | Reload |) found in $DOC"

declare -A bin_def bin_mark doc_def doc_mark doc_line
while IFS=$'\t' read -r key def mark _form _range; do
    bin_def[$key]=$def
    bin_mark[$key]=$mark
done <"$WORK/keys"
while IFS=$'\t' read -r key def mark line; do
    if [ -n "${doc_line[$key]:-}" ]; then
        fail "$key: documented twice in docs/configuration.md (lines ${doc_line[$key]} and $line)"
    fi
    doc_def[$key]=$def
    doc_mark[$key]=$mark
    doc_line[$key]=$line
done <"$WORK/doc_rows"

for key in "${!bin_def[@]}"; do
    if [ -z "${doc_line[$key]:-}" ]; then
        fail "$key: blindrelay knows it (--print-keys) but docs/configuration.md has no row for it"
    fi
done
for key in "${!doc_line[@]}"; do
    line=${doc_line[$key]}
    if [ -z "${bin_def[$key]:-}" ]; then
        fail "$key: docs/configuration.md line $line documents it but blindrelay does not know it"
        continue
    fi
    if [ "${doc_def[$key]}" != "${bin_def[$key]}" ]; then
        fail "$key: docs/configuration.md line $line gives the default '${doc_def[$key]}'," \
            "blindrelay --print-keys '${bin_def[$key]}'"
    fi
    if [ "${doc_mark[$key]}" != "${bin_mark[$key]}" ]; then
        fail "$key: docs/configuration.md line $line says '${doc_mark[$key]}' on SIGHUP," \
            "blindrelay --print-keys '${bin_mark[$key]}'"
    fi
done
[ "$FAILURES" -eq 0 ] &&
    pass "${#bin_def[@]} keys: each documented once, with the binary's default and reload mark"
finish
