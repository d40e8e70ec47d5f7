# SPDX-License-Identifier: ISC
# gen-registry.awk - turn data/smtp-codes.tsv into the C tables of libsmtpreply.
#
# Usage: $(AWK) -f build-aux/gen-registry.awk data/smtp-codes.tsv > registry_data.c
#
# Writes src/libsmtpreply/registry_data.c, which defines what
# src/libsmtpreply/registry_data.h declares. The data file documents its
# record types and columns in its header comment. POSIX awk only (mawk and
# gawk): no intervals in regular expressions, no gawk extensions.
#
# Every malformed row is reported as "FILE:LINE: MESSAGE" on standard error;
# when there is any, nothing is written to standard output and the exit
# status is 1.

BEGIN {
	FS = "\t"
	nerrors = 0
	source = "<stdin>"
	nenhanced = 0
	nphase_default = 0
	nbasic = 0
	init_names()
}

# The names the data file may use, and their C spelling.
function init_names(	i)
{
	nphases = split("connect helo mail rcpt data eom other", phase_names, " ")
	for (i = 1; i <= nphases; i++) {
		phase_known[phase_names[i]] = 1
		phase_enum[phase_names[i]] = "SR_PHASE_" toupper(phase_names[i])
	}
	origin_enum["rfc5321"] = "SR_ORIGIN_RFC5321"
	origin_enum["extension"] = "SR_ORIGIN_EXTENSION"
	origin_enum["nonstandard"] = "SR_ORIGIN_NONSTANDARD"
	nfields["enhanced"] = 6
	nfields["basic"] = 8
	nfields["phase-default"] = 4
	nfields["phase"] = 3
}

# ---- diagnostics -----------------------------------------------------------

function fail_at(line, message)
{
	printf("%s:%d: %s\n", source, line, message) > "/dev/stderr"
	nerrors++
}

function fail(message)
{
	fail_at(FNR, message)
}

# ---- syntax of fields ------------------------------------------------------

# A field, with the placeholder "-" read as empty.
function field(i)
{
	return $i == "-" ? "" : $i
}

# A basic reply code: exactly three digits.
function is_code(s)
{
	return s ~ /^[0-9][0-9][0-9]$/
}

# An enhanced code field: 0-999 without leading zeros.
function is_enh_number(s)
{
	return s ~ /^[0-9]$/ || s ~ /^[1-9][0-9]$/ || s ~ /^[1-9][0-9][0-9]$/
}

# A strictly valid enhanced code CLASS.SUBJECT.DETAIL, class 2, 4 or 5.
function is_enh(s,	parts)
{
	if (s !~ /^[245][.][0-9]+[.][0-9]+$/)
		return 0
	split(s, parts, "[.]")
	return is_enh_number(parts[2]) && is_enh_number(parts[3])
}

# True when S is printable US-ASCII (SP through '~').
function is_printable(s)
{
	return s !~ /[^ -~]/
}

# True when the code is in the RFC 5321 ABNF: first digit 2-5, second 0-5.
function in_abnf(code)
{
	return code ~ /^[2-5][0-5][0-9]$/
}

# An ASSOC field: "", "*", or a comma-separated list of codes and 4XX/5XX.
function is_assoc(s,	tokens, n, i)
{
	if (s == "" || s == "*")
		return 1
	n = split(s, tokens, ",")
	for (i = 1; i <= n; i++)
		if (!is_code(tokens[i]) && tokens[i] !~ /^[2-5]XX$/)
			return 0
	return 1
}

# ---- C output helpers ------------------------------------------------------

# S as a C string literal: '"' and '\' escaped, "??" broken up so that no
# trigraph can form. S is printable ASCII (checked when read).
function c_string(s,	out, i, c, previous)
{
	out = ""
	previous = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\\" || c == "\"")
			out = out "\\" c
		else if (c == "?" && previous == "?")
			out = out "\\?"
		else
			out = out c
		previous = c
	}
	return "\"" out "\""
}

# "5.7.1" as a C initializer of struct sr_enh.
function c_enh(s,	parts)
{
	split(s, parts, "[.]")
	return sprintf("{ .cls = %d, .subject = %d, .detail = %d }",
	    parts[1], parts[2], parts[3])
}

# ---- records ---------------------------------------------------------------

{
	source = (FILENAME == "" || FILENAME == "-") ? "<stdin>" : FILENAME
	sub(/\r$/, "")
}

/^#/ || /^$/ {
	next
}

!($1 in nfields) {
	fail("unknown record type \"" $1 "\"")
	next
}

NF != nfields[$1] {
	fail(sprintf("%s row has %d fields, want %d (TAB-separated, \"-\" for empty)",
	    $1, NF, nfields[$1]))
	next
}

$1 == "enhanced"	{ read_enhanced(); next }
$1 == "basic"		{ read_basic(); next }
$1 == "phase-default"	{ read_phase_default(); next }
$1 == "phase"		{ read_phase(); next }

# ---- one function per record type ------------------------------------------

function read_enhanced(	subject, detail, key)
{
	subject = $2
	detail = $3
	if (!is_enh_number(subject) || !is_enh_number(detail)) {
		fail("bad enhanced code X." subject "." detail \
		    " (fields 0-999, no leading zeros)")
		return
	}
	key = subject "." detail
	if (key in enhanced_line) {
		fail("duplicate enhanced code X." key \
		    " (first at line " enhanced_line[key] ")")
		return
	}
	if (!is_printable($4) || !is_printable($6)) {
		fail("enhanced X." key ": text is not printable US-ASCII")
		return
	}
	if (!is_assoc(field(5))) {
		fail("enhanced X." key ": bad associated codes \"" $5 \
		    "\" (codes, 4XX, 5XX comma-separated; \"*\"; \"-\")")
		return
	}
	enhanced_line[key] = FNR
	nenhanced++
	enhanced_subject[nenhanced] = subject + 0
	enhanced_detail[nenhanced] = detail + 0
	enhanced_sample[nenhanced] = field(4)
	enhanced_assoc[nenhanced] = field(5)
	enhanced_refs[nenhanced] = field(6)
}

function read_basic(	code, default_enh, replacement, replacement_enh)
{
	code = $2
	if (!is_code(code)) {
		fail("bad basic code \"" code "\" (three digits)")
		return
	}
	code += 0
	if (code in basic_line) {
		fail("duplicate basic code " $2 \
		    " (first at line " basic_line[code] ")")
		return
	}
	if (!($3 in origin_enum)) {
		fail("basic " $2 ": unknown origin \"" $3 \
		    "\" (rfc5321, extension, nonstandard)")
		return
	}
	if ($3 != "nonstandard" && !in_abnf($2)) {
		fail("basic " $2 ": origin " $3 " needs a code in the RFC 5321 ABNF")
		return
	}
	if (!is_printable($4) || !is_printable($8)) {
		fail("basic " $2 ": text is not printable US-ASCII")
		return
	}
	if (field(8) == "") {
		fail("basic " $2 ": meaning is empty")
		return
	}
	default_enh = field(5)
	if (default_enh != "") {
		if (!is_enh(default_enh)) {
			fail("basic " $2 ": bad enhanced code \"" default_enh "\"")
			return
		}
		if (substr(default_enh, 1, 1) != substr($2, 1, 1)) {
			fail("basic " $2 ": default " default_enh \
			    " has another class than the code")
			return
		}
	}
	replacement = field(6)
	replacement_enh = field(7)
	if (replacement != "" && !is_code(replacement)) {
		fail("basic " $2 ": bad replacement code \"" replacement "\"")
		return
	}
	if (replacement == $2) {
		fail("basic " $2 ": replaced by itself")
		return
	}
	if (replacement_enh != "") {
		if (replacement == "") {
			fail("basic " $2 ": enhanced code for a replacement without one")
			return
		}
		if (!is_enh(replacement_enh)) {
			fail("basic " $2 ": bad enhanced code \"" replacement_enh "\"")
			return
		}
		if (substr(replacement_enh, 1, 1) != substr(replacement, 1, 1)) {
			fail("basic " $2 ": " replacement_enh \
			    " has another class than replacement " replacement)
			return
		}
	}
	basic_line[code] = FNR
	basic_origin[code] = $3
	basic_refs[code] = field(4)
	basic_default[code] = default_enh
	basic_replace[code] = replacement
	basic_replace_enh[code] = replacement_enh
	basic_meaning[code] = field(8)
	nbasic++
}

function read_phase_default(	key)
{
	if (!($2 in phase_known)) {
		fail("unknown phase \"" $2 "\"")
		return
	}
	if (!is_code($3)) {
		fail("bad basic code \"" $3 "\" (three digits)")
		return
	}
	if (!is_enh($4)) {
		fail("bad enhanced code \"" $4 "\"")
		return
	}
	if (substr($4, 1, 1) != substr($3, 1, 1)) {
		fail($4 " has another class than code " $3)
		return
	}
	key = $2 " " ($3 + 0)
	if (key in phase_default_line) {
		fail("duplicate phase-default for " $3 " at " $2 \
		    " (first at line " phase_default_line[key] ")")
		return
	}
	phase_default_line[key] = FNR
	nphase_default++
	phase_default_phase[nphase_default] = $2
	phase_default_code[nphase_default] = $3 + 0
	phase_default_enh[nphase_default] = $4
	phase_default_at[nphase_default] = FNR
}

function read_phase(	list, tokens, seen, n, i, j, value)
{
	if (!($2 in phase_known)) {
		fail("unknown phase \"" $2 "\"")
		return
	}
	if ($2 in phase_line) {
		fail("duplicate phase row for " $2 \
		    " (first at line " phase_line[$2] ")")
		return
	}
	list = field(3)
	n = list == "" ? 0 : split(list, tokens, ",")
	for (i = 1; i <= n; i++) {
		if (!is_code(tokens[i])) {
			fail("phase " $2 ": bad code \"" tokens[i] "\"")
			return
		}
		if ((tokens[i] + 0) in seen) {
			fail("phase " $2 ": duplicate code " tokens[i])
			return
		}
		seen[tokens[i] + 0] = 1
	}
	phase_line[$2] = FNR
	phase_ncodes[$2] = n
	# Kept sorted ascending (insertion sort; the lists are short).
	for (i = 1; i <= n; i++) {
		value = tokens[i] + 0
		for (j = i - 1; j >= 1 && phase_code[$2, j] > value; j--)
			phase_code[$2, j + 1] = phase_code[$2, j]
		phase_code[$2, j + 1] = value
	}
}

# ---- cross-checks and output -----------------------------------------------

# True when ENH ("5.7.1") names a row of the enhanced registry.
function registered(enh,	parts)
{
	split(enh, parts, "[.]")
	return (((parts[2] + 0) "." (parts[3] + 0)) in enhanced_line)
}

function is_standard(code)
{
	return (code in basic_origin) && basic_origin[code] != "nonstandard"
}

function cross_check(	code, target, i, j, name)
{
	if (nenhanced == 0)
		fail_at(FNR, "no enhanced rows")
	if (nbasic == 0)
		fail_at(FNR, "no basic rows")
	for (code = 0; code < 1000; code++) {
		if (!(code in basic_line))
			continue
		if (basic_default[code] != "" \
		    && !registered(basic_default[code]))
			fail_at(basic_line[code], "basic " code ": default " \
			    basic_default[code] " is not registered")
		if (basic_replace_enh[code] != "" \
		    && !registered(basic_replace_enh[code]))
			fail_at(basic_line[code], "basic " code ": " \
			    basic_replace_enh[code] " is not registered")
		if (basic_replace[code] == "")
			continue
		target = basic_replace[code] + 0
		if (!is_standard(target) || target >= 300 && target < 400)
			fail_at(basic_line[code], "basic " code ": replacement " \
			    target " is not a standard 2xx, 4xx or 5xx code")
		else if (basic_replace[target] != "")
			fail_at(basic_line[code], "basic " code ": replacement " \
			    target " is replaced itself (no chains)")
	}
	for (i = 1; i <= nphase_default; i++)
		if (!registered(phase_default_enh[i]))
			fail_at(phase_default_at[i], phase_default_enh[i] \
			    " is not a registered enhanced code")
	for (i = 1; i <= nphases; i++) {
		name = phase_names[i]
		if (!(name in phase_line)) {
			fail_at(FNR, "no phase row for " name)
			continue
		}
		for (j = 1; j <= phase_ncodes[name]; j++)
			if (!is_standard(phase_code[name, j]))
				fail_at(phase_line[name], "phase " name ": " \
				    phase_code[name, j] \
				    " is not a standard code of the basic rows")
	}
}

# Order the enhanced rows by subject, then detail (insertion sort).
function sort_enhanced(	i, j, moving, key)
{
	for (i = 1; i <= nenhanced; i++)
		enhanced_order[i] = i
	for (i = 2; i <= nenhanced; i++) {
		moving = enhanced_order[i]
		key = enhanced_key(moving)
		for (j = i - 1; j >= 1 && enhanced_key(enhanced_order[j]) > key; j--)
			enhanced_order[j + 1] = enhanced_order[j]
		enhanced_order[j + 1] = moving
	}
}

# The sort key of enhanced row R: subject, then detail.
function enhanced_key(r)
{
	return enhanced_subject[r] * 1000 + enhanced_detail[r]
}

function emit_enhanced(	i, r)
{
	print "/* IANA enhanced status codes, sorted by subject then detail. */"
	print "const struct sr_enhanced_info sr_data_enhanced[] = {"
	for (i = 1; i <= nenhanced; i++) {
		r = enhanced_order[i]
		printf("\t{ .subject = %d, .detail = %d,\n", enhanced_subject[r],
		    enhanced_detail[r])
		printf("\t  .sample = %s,\n", c_string(enhanced_sample[r]))
		printf("\t  .assoc = %s, .refs = %s },\n", c_string(enhanced_assoc[r]),
		    c_string(enhanced_refs[r]))
	}
	print "};"
	print "const size_t sr_data_enhanced_count ="
	print "    sizeof(sr_data_enhanced) / sizeof(sr_data_enhanced[0]);"
	print ""
}

function emit_basic(	code, n)
{
	print "/* Basic reply codes, sorted by code. */"
	print "const struct sr_basic_info sr_data_basic[] = {"
	n = 0
	for (code = 0; code < 1000; code++) {
		if (!(code in basic_line))
			continue
		basic_index[code] = n++
		printf("\t{ .code = %d, .origin = %s, .refs = %s,\n", code,
		    origin_enum[basic_origin[code]], c_string(basic_refs[code]))
		printf("\t  .meaning = %s },\n", c_string(basic_meaning[code]))
	}
	print "};"
	print "const size_t sr_data_basic_count ="
	print "    sizeof(sr_data_basic) / sizeof(sr_data_basic[0]);"
	print ""
	print "/* Index into sr_data_basic by code, -1 where there is none. */"
	print "const int16_t sr_data_basic_index[1000] = {"
	for (code = 0; code < 1000; code += 10) {
		printf("\t/* %03d */", code)
		for (n = code; n < code + 10; n++)
			printf(" %d,", (n in basic_index) ? basic_index[n] : -1)
		printf("\n")
	}
	print "};"
	print ""
}

function emit_policy(	code, i, count)
{
	print "/* Shipped normalization tables. */"
	printf("_Static_assert(%d <= SR_POLICY_MAX_PHASE_DEFAULTS,\n", nphase_default)
	print "    \"data/smtp-codes.tsv has too many phase-default rows\");"
	print "const struct sr_policy sr_data_policy = {"
	count = 0
	for (code = 0; code < 1000; code++)
		if ((code in basic_default) && basic_default[code] != "") {
			if (count++ == 0)
				print "\t.default_enh = {"
			printf("\t\t[%d] = %s,\n", code, c_enh(basic_default[code]))
		}
	if (count > 0)
		print "\t},"
	count = 0
	for (code = 0; code < 1000; code++)
		if ((code in basic_replace) && basic_replace[code] != "") {
			if (count++ == 0)
				print "\t.replace = {"
			printf("\t\t[%d] = %d,\n", code, basic_replace[code])
		}
	if (count > 0)
		print "\t},"
	count = 0
	for (code = 0; code < 1000; code++)
		if ((code in basic_replace_enh) && basic_replace_enh[code] != "") {
			if (count++ == 0)
				print "\t.replace_enh = {"
			printf("\t\t[%d] = %s,\n", code, c_enh(basic_replace_enh[code]))
		}
	if (count > 0)
		print "\t},"
	if (nphase_default > 0) {
		print "\t.phase_default = {"
		for (i = 1; i <= nphase_default; i++)
			printf("\t\t{ .phase = %s, .code = %d,\n\t\t  .enh = %s },\n",
			    phase_enum[phase_default_phase[i]], phase_default_code[i],
			    c_enh(phase_default_enh[i]))
		print "\t},"
	}
	printf("\t.nphase_default = %d,\n", nphase_default)
	print "};"
	print ""
}

function emit_phases(	i, j, name, line)
{
	print "/* Codes RFC 5321 4.3.2 lists for each phase, ascending. */"
	for (i = 1; i <= nphases; i++) {
		name = phase_names[i]
		if (phase_ncodes[name] == 0)
			continue
		line = "static const uint16_t phase_codes_" name "[] = {"
		for (j = 1; j <= phase_ncodes[name]; j++)
			line = line (j > 1 ? ", " : " ") phase_code[name, j]
		print line " };"
	}
	print "const uint16_t *const sr_data_phase_codes[SR_PHASE__COUNT] = {"
	for (i = 1; i <= nphases; i++) {
		name = phase_names[i]
		printf("\t[%s] = %s,\n", phase_enum[name],
		    phase_ncodes[name] ? "phase_codes_" name : "NULL")
	}
	print "};"
	print "const size_t sr_data_phase_ncodes[SR_PHASE__COUNT] = {"
	for (i = 1; i <= nphases; i++) {
		name = phase_names[i]
		printf("\t[%s] = %d,\n", phase_enum[name], phase_ncodes[name])
	}
	print "};"
}

END {
	cross_check()
	if (nerrors > 0) {
		printf("%s: %d error(s); no output written\n", source,
		    nerrors) > "/dev/stderr"
		exit 1
	}
	sort_enhanced()
	print "/*"
	print " * registry_data.c - generated from data/smtp-codes.tsv by"
	print " * build-aux/gen-registry.awk: do not edit; edit the data file."
	print " */"
	print "#include \"registry_data.h\""
	print ""
	emit_enhanced()
	emit_basic()
	emit_policy()
	emit_phases()
}
