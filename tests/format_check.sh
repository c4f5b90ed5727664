#!/bin/sh
# Checks that every git-tracked C source and header under turn/, relay/,
# admin/ and tests/ is formatted as the repository's .clang-format says
# (clang-format 14, as Debian 12 ships it). Lists the files that are not
# and exits 1; fix them with `clang-format -i FILE`. ctest runs it as the
# test "format".
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}

if ! command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
    echo "format_check: $CLANG_FORMAT not found (apt-get install clang-format)" >&2
    exit 1
fi
case $("$CLANG_FORMAT" --version) in
*" version 14."*) ;;
*) echo "format_check: note: the style is checked with clang-format 14; this is" \
    "$("$CLANG_FORMAT" --version)" >&2 ;;
esac

cd "$SRC"
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "format_check: $SRC is not a git checkout; nothing to list" >&2
    exit 1
fi

bad=$(mktemp)
trap 'rm -f "$bad"' EXIT
n=0
# git pathspecs: '*' also matches '/', so these reach every subdirectory.
# One clang-format for all files; each file that differs is named in its
# "FILE:LINE:COL: error:" lines.
git ls-files -z -- 'turn/*.[ch]' 'relay/*.[ch]' 'admin/*.[ch]' 'tests/*.[ch]' |
    xargs -0 -r "$CLANG_FORMAT" --dry-run -Werror --style=file 2>&1 >/dev/null |
    sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: .*/\1/p' | sort -u >"$bad"
n=$(wc -l <"$bad")
if [ "$n" -ne 0 ]; then
    echo "format_check: $n file(s) differ from .clang-format (clang-format -i FILE fixes them):"
    sed 's/^/  /' "$bad"
    exit 1
fi
echo "format_check: all files formatted"
