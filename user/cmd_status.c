// SPDX-License-Identifier: GPL-2.0
/* lpsentinel status [--json]: every livepatch the kernel holds, and who blocks a transition. */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include "cli.h"
#include "klp_report.h"
#include "log.h"

int do_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct json_object *doc = NULL, *arr = NULL;
	struct klp_patch_list l = { 0 };
	bool json = false;
	int c, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c == 'j') {
			json = true;
		} else if (c == 'h') {
			printf("usage: lpsentinel status [--json]\n");
			return CLI_EXIT_OK;
		} else {
			cli__usage_error("status: unknown option '%s' (see lpsentinel status --help)",
					 argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli__usage_error("status takes no arguments, not '%s'", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	ret = klp_sysfs__list(KLP_SYSFS_ROOT_DEFAULT, &l);
	if (ret == -ENOENT) {
		lps_err("this kernel has no livepatch support (%s is missing)",
			KLP_SYSFS_ROOT_DEFAULT);
		return CLI_EXIT_ERROR;
	}
	if (ret) {
		lps_err("cannot read %s: %s", KLP_SYSFS_ROOT_DEFAULT, strerror(-ret));
		return CLI_EXIT_ERROR;
	}
	klp_sysfs__fill_stack_order(&l, "/proc/modules");
	if (json) {
		doc = json_object_new_object();
		arr = json_object_new_array();
		json_object_object_add(doc, "patches", arr);
	} else if (!l.n) {
		printf("no livepatches loaded\n");
	}
	for (size_t i = 0; i < l.n; i++) {
		struct klp_transition_info t, *tp = NULL;

		if (l.v[i].transition == 1 && !klp_transition_info__read(&l.v[i], &t))
			tp = &t;
		if (json)
			json_object_array_add(arr, klp_report__patch_json(&l.v[i], tp));
		else
			klp_report__patch_text(stdout, &l.v[i], tp);
		if (tp)
			klp_transition_info__free(tp);
	}
	if (doc)
		printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
	klp_patch_list__free(&l);
	return CLI_EXIT_OK;
}
