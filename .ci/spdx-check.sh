#!/bin/sh
# SPDX-License-Identifier: ISC
#
# .ci/spdx-check.sh - every source file carries an SPDX license line.
#
#   .ci/spdx-check.sh          list the tracked source files without an
#                              "SPDX-License-Identifier:" line in their
#                              first 10 lines; exit 1 if there is one
#   .ci/spdx-check.sh --fix    add "SPDX-License-Identifier: ISC" to each
#                              of them, in the comment syntax the file
#                              already uses (after a #! line)
#
# Source files: C, Python, shell, awk, autotools input, man pages, the
# configuration sample, contrib/ snippets and debian/'s scripts. Data
# (tests/data, data/, fuzzing seeds), Markdown and debian/'s control files
# are not.
set -eu

cd "$(dirname "$0")/.."
LICENSE_ID=ISC

source_files() {
	git ls-files -- '*.c' '*.h' '*.py' '*.sh' '*.awk' '*.am' '*.ac' \
	    '*.service' '*.snippet' '*.mc' '*.conf' '*.[158]' \
	    .ci/run quickstart.sh debian/rules 'debian/*.postinst' \
	    'debian/*.postrm' 'debian/*.tmpfiles' |
	    grep -v -e '^tests/data/' -e '^data/' -e '^fuzz/[^/]*seeds/' || true
}

has_spdx() {
	head -n 10 "$1" | grep -q 'SPDX-License-Identifier:'
}

# The comment that carries the line, in the style of the file's first
# line after a #! line.
spdx_line() {
	first=$(sed -n '/^#!/!{p;q;}' "$1")
	case "$1" in
	*.c|*.h)
		case "$first" in
		/\**)	echo " * SPDX-License-Identifier: $LICENSE_ID" ;;
		*)	echo "/* SPDX-License-Identifier: $LICENSE_ID */" ;;
		esac
		return ;;
	*.[158])
		echo ".\\\" SPDX-License-Identifier: $LICENSE_ID"
		return ;;
	esac
	case "$first" in
	/\**)	echo " * SPDX-License-Identifier: $LICENSE_ID" ;;
	.\\\"*)	echo ".\\\" SPDX-License-Identifier: $LICENSE_ID" ;;
	dnl*)	echo "dnl SPDX-License-Identifier: $LICENSE_ID" ;;
	\#\#*)	echo "## SPDX-License-Identifier: $LICENSE_ID" ;;
	*)	echo "# SPDX-License-Identifier: $LICENSE_ID" ;;
	esac
}

fix() {
	f=$1
	line=$(spdx_line "$f")
	tmp="$f.spdx-tmp"
	if head -n 1 "$f" | grep -q '^#!'; then
		{ head -n 1 "$f"; echo "$line"; tail -n +2 "$f"; } > "$tmp"
	elif head -n 1 "$f" | grep -q '^/\*'; then
		# Inside the header comment, as its second line.
		{ head -n 1 "$f"; echo "$line"; tail -n +2 "$f"; } > "$tmp"
	else
		{ echo "$line"; cat "$f"; } > "$tmp"
	fi
	chmod --reference="$f" "$tmp"
	mv "$tmp" "$f"
	echo "spdx: added to $f"
}

mode=check
[ "${1:-}" = --fix ] && mode=fix
missing=0
total=0
for f in $(source_files); do
	total=$((total + 1))
	has_spdx "$f" && continue
	if [ "$mode" = fix ]; then
		fix "$f"
	else
		echo "spdx: no SPDX-License-Identifier line: $f"
		missing=$((missing + 1))
	fi
done
if [ "$mode" = check ]; then
	echo "spdx: $((total - missing)) of $total source files carry an SPDX line"
	[ "$missing" -eq 0 ]
fi
