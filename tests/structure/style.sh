#!/usr/bin/env bash
# The tree's style checks: every C++ file is as clang-format (.clang-format)
# writes it, and every shell script passes shellcheck.
#   style.sh SOURCE_DIR format|shellcheck
set -uo pipefail
root=$1
cd "$root" || exit 1
case "$2" in
  format)
    mapfile -t files < <(find include src tools tests bench fuzz -name '*.cc' -o -name '*.h' | sort)
    out=$(clang-format --dry-run -Werror "${files[@]}" 2>&1)
    if [ -n "$out" ]; then
      printf '%s\n' "$out" | grep 'error:' | cut -d: -f1 | sort -u | sed 's/^/not formatted: /'
      echo "fix with: clang-format -i FILE"
      exit 1
    fi
    echo "clang-format: ${#files[@]} files formatted"
    ;;
  shellcheck)
    mapfile -t files < <(find . -path ./build\* -prune -o -name '*.sh' -print | sort)
    files+=(.ci/run packaging/postinst packaging/postrm)
    shellcheck "${files[@]}" || exit 1
    echo "shellcheck: ${#files[@]} scripts clean"
    ;;
  *) echo "usage: style.sh SOURCE_DIR format|shellcheck" >&2; exit 64 ;;
esac
