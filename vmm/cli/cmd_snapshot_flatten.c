/*
 * `roam snapshot-flatten DIFF -o FILE`: a diff snapshot and its chain of bases written as one full snapshot (atomic),
 * which restores without the bases (snapshot/diff_chain.h).
 */
#include "commands.h"

#include "core/log.h"
#include "core/vm.h"
#include "snapshot/diff_chain.h"

#include <getopt.h>
#include <string.h>

static const char flatten_usage[] =
    "usage: roam snapshot-flatten DIFF -o FILE\n"
    "Writes the diff snapshot DIFF and its chain of bases (each checked by the SHA-256 the next one recorded) as one\n"
    "full snapshot FILE, which roam restore takes without the bases. FILE is written atomically.\n"
    "Exit status: 0 written, 1 a file of the chain is missing, changed or damaged (roam: lines say which), 2 bad\n"
    "usage.\n";

int cmd_snapshot_flatten(int argc, char **argv)
{
	static const struct option options[] = {
	    {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *out = NULL;
	int opt;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", options, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			fputs(flatten_usage, stdout);
			return 0;
		case ':':
			log_error("snapshot-flatten: %s needs a value", argv[optind - 1]);
			return ROAM_EXIT_USAGE;
		default:
			log_error("snapshot-flatten: unknown option '%s'; see roam snapshot-flatten --help",
				  argv[optind - 1]);
			return ROAM_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || !out) {
		log_error("snapshot-flatten: %s; see roam snapshot-flatten --help", optind == argc ? "no DIFF given"
										    : !out
											? "no -o FILE given"
											: "more than one DIFF given");
		return ROAM_EXIT_USAGE;
	}
	if (!strcmp(out, argv[optind])) {
		log_error("snapshot-flatten: -o %s is the diff itself; write the full snapshot elsewhere", out);
		return ROAM_EXIT_USAGE;
	}
	return diff_flatten(argv[optind], out) == 0 ? 0 : ROAM_EXIT_ERROR;
}
