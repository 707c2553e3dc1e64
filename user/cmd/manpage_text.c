// SPDX-License-Identifier: GPL-2.0
/*
 * The manual pages' prose: what the option tables do not say. Short forms of
 * README.md and docs/verbs.md, which stay the full story; options, synopses
 * and summaries come from the tables only (manpage.c). A verb without an
 * entry here still gets its page, from its table. Markup: manpage.h.
 */
#include <string.h>
#include "daemon_status.h"
#include "manpage.h"

#define STATE WATCH_DEFAULT_STATE_DIR

static const struct cli_man_file daemon_files[] = {
	{ "/etc/lpsentinel/rules.yaml", "The installed rules, which the service gives the daemon "
	  "with `--rules`." },
	{ STATE "/state.lps", "Every baseline and this boot's verdicts, written every 10 s and "
	  "after each decision; a damaged file is set aside as `state.lps.bad`." },
	{ STATE "/status.json", "What the daemon watches and its latest verdicts, read by "
	  "`lpsentinel status`." },
	{ STATE "/audit.jsonl", "The audit trail: one JSON line per decision." },
	{ STATE "/control.sock", "The control socket through which `lpsentinel gate` hands its "
	  "patch to the daemon." },
	{ STATE "/watch.lock", "Held by the running daemon, its pid inside." },
	{ "/sys/kernel/livepatch", "The loaded livepatches." },
	{ NULL },
};

static const struct cli_man_text texts[] = {
	{
		.verb = NULL,
		.description = (const char *const[]){
			"lpsentinel measures whether a livepatch is healthy. It traces the kernel "
			"functions a livepatch replaces with BPF, measures them before and after the "
			"patch (exact call and error counts, latency histograms, lock contention, page "
			"faults, kernel log faults), judges the difference with statistical tests that "
			"bound the false-revert rate, and reverts a patch that regressed, printing the "
			"evidence.",
			"`lpsentinel gate` does this for one patch module: baseline, load, observe, "
			"judge, keep or revert. `lpsentinel watch` is the daemon that does the same for "
			"every livepatch that appears, however it was loaded. The other commands "
			"inspect a module, trace functions, show and revert loaded patches, measure "
			"what a patch costs and pool the verdicts of a fleet.",
			"Every command that traces needs root, or CAP_BPF, CAP_PERFMON and "
			"CAP_SYS_ADMIN together, and a kernel with BTF, CONFIG_LIVEPATCH and ftrace. "
			"With `--json` a command writes one JSON document to standard output; its "
			"fields are listed in docs/verbs.md.",
			NULL },
		.sections = (const struct cli_man_section[]){
			{ "RULES FILE", (const char *const[]){
				"Thresholds and windows come from a YAML rules file (`--rules FILE` of "
				"gate, watch and pool); without one, the built-in defaults. The "
				"installed /etc/lpsentinel/rules.yaml, which the service uses, comments "
				"each setting and its default: the baseline and observe windows, "
				"the transition and revert timeouts, `min_calls`, `alpha` (the "
				"false-revert budget per check, spent across looks), `look_interval_s`, "
				"`cpu_budget`, and under `checks:` each check's thresholds; "
				"`functions:` overrides checks for functions matching a glob, and "
				"`watch:` lists functions the daemon keeps baselines for.",
				"A rules file is read strictly: a regular file of at most 4 MiB, one "
				"YAML document, no anchors or aliases, no key twice, plain decimal "
				"numbers, each value in its range. Any refusal is one line, "
				"FILE:LINE: reason, before anything is loaded. The ranges: "
				"docs/design.md.",
				NULL } },
			{ "ENVIRONMENT", (const char *const[]){
				"- `LPS_DEBUG=1` prints libbpf's debug messages on standard error.",
				"- `SOURCE_DATE_EPOCH` dates the pages `lpsentinel help --man` prints "
				"(reproducible builds).",
				NULL } },
			{ NULL } },
		.exit = { [CLI_EXIT_REGRESSED] = "`gate`: the patch regressed and was reverted; "
			  "`pool`: revert everywhere." },
		.files = daemon_files,
		.examples = (const struct cli_man_example[]){
			{ "What a patch replaces, and how each function would be traced:",
			  "lpsentinel inspect your-patch.ko" },
			{ "Gate it instead of loading it (exit 0: loaded and kept; exit 3: reverted):",
			  "lpsentinel gate your-patch.ko" },
			{ "Judge every patch, however it is loaded: the service runs",
			  "lpsentinel watch --rules /etc/lpsentinel/rules.yaml --listen 127.0.0.1:9464" },
			{ NULL } },
	},
	{
		.verb = "inspect",
		.description = (const char *const[]){
			"Reads the module with libelf before anything is loaded: the patch name the "
			"kernel will use, whether it is an atomic-replace patch as built, its objects "
			"and every function it replaces. Against the running kernel it adds, per "
			"function, what `gate` would do: measured, and how (fentry or kprobe, or "
			"traced under an alias ftrace lists); not measured, and why (a module not "
			"loaded); or refused by the kernel (unknown, ambiguous without sympos).",
			"A missing, empty, truncated or corrupted file, or a module that is not a "
			"livepatch, is one error line.",
			NULL },
		.examples = (const struct cli_man_example[]){
			{ "The functions a patch replaces, as JSON:", "lpsentinel inspect --json patch.ko" },
			{ NULL } },
	},
	{
		.verb = "trace",
		.description = (const char *const[]){
			"Attaches probes to each FUNC (fentry/fexit where the function has BTF, else "
			"kprobes), checks that each probe really runs, and prints per function the "
			"calls, errors, latency percentiles and a histogram; with health signals on, "
			"the lock contention and page faults inside it, and system-wide lock "
			"contention and run-queue latency. It runs for `--duration` or until SIGINT "
			"or SIGTERM.",
			"With `--cpu-budget`, a hot function's probes are attached in windows that "
			"keep their cost under the budget; calls are then counted in the windows and "
			"estimated for the whole run.",
			"An unknown, untraceable or ambiguous function, ftrace disabled, or the kernel "
			"refusing BPF is one error line.",
			NULL },
		.examples = (const struct cli_man_example[]){
			{ "Ten seconds of two functions, reported every second:",
			  "lpsentinel trace -d 10 -i 1 vfs_read vfs_write" },
			{ "A hot function within 1 % of a CPU:",
			  "lpsentinel trace --cpu-budget 1 __do_sys_getpid" },
			{ NULL } },
	},
	{
		.verb = "gate",
		.description = (const char *const[]){
			"In order: reads the rules (a malformed file is refused before anything is "
			"loaded), inspects the module, attaches probes to every function it replaces, "
			"records the baseline under the live workload, loads the module from the file "
			"it inspected, waits for the patching transition, then observes, judging at "
			"every look. A regression reverts at once: disable, wait for the unpatch, "
			"unload. Otherwise the patch is kept.",
			"A stalled transition, probes that stop running or calls that stop also "
			"revert the patch, and say why. Functions that cannot be measured are listed "
			"with the reason, never passed in silence.",
			"With a watch daemon running, gate hands its patch to the daemon through its "
			"control socket and prints the daemon's verdict, exiting as it would alone; "
			"`--standalone` judges here instead.",
			"Module parameters follow `--`, each PARAM=VALUE; anything else is a usage "
			"error before anything is probed or loaded.",
			NULL },
		.exit = {
			[CLI_EXIT_OK] = "The patch passed (or was inconclusive under the rules' `keep` "
					"policy) and stays loaded.",
			[CLI_EXIT_ERROR] = "Operational error (one line on standard error); a gate "
					   "that can no longer judge a loaded patch reverts it first.",
			[CLI_EXIT_REGRESSED] = "The patch regressed and was reverted and unloaded.",
		},
		.files = (const struct cli_man_file[]){
			{ STATE "/control.sock", "A running watch daemon's control socket (`--state`)." },
			{ NULL } },
		.examples = (const struct cli_man_example[]){
			{ "Gate a patch with a 30 s baseline and a 60 s observe window:",
			  "lpsentinel gate --baseline 30 --observe 60 patch.ko" },
			{ "With a module parameter, as JSON:",
			  "lpsentinel gate --json patch.ko -- replace=1" },
			{ "Check a rules file without a kernel (the rules' error, else the missing module):",
			  "lpsentinel gate /nonexistent.ko --rules rules.yaml" },
			{ NULL } },
	},
	{
		.verb = "watch",
		.description = (const char *const[]){
			"Keeps rolling baselines of the functions it is told to watch and of every "
			"function of every livepatch it sees; judges every livepatch that appears "
			"(however it was loaded) with the same engine as `gate`; reverts it on "
			"failure; keeps its state across restarts; writes an audit trail and serves "
			"Prometheus metrics with `--listen`.",
			"It runs until SIGTERM (state saved, probes detached, exit 0); SIGHUP reloads "
			"the rules. The state directory must be owned by root and writable by no one "
			"else. The systemd unit lpsentinel.service runs it.",
			NULL },
		.files = daemon_files,
		.examples = (const struct cli_man_example[]){
			{ "The daemon with metrics on localhost, watching one function from the start:",
			  "lpsentinel watch --listen 127.0.0.1:9464 --function vfs_read" },
			{ "Reload its rules:", "systemctl reload lpsentinel" },
			{ NULL } },
	},
	{
		.verb = "status",
		.description = (const char *const[]){
			"Every patch in /sys/kernel/livepatch with its state, objects and functions. "
			"For a transition in progress, the tasks that block it with their kernel "
			"stacks. With a running watch daemon, what it watches and its latest verdicts; "
			"and the patches a killed gate left half-handled.",
			"With `--follow`, one line per patch that appears, settles or goes, until a "
			"signal.",
			NULL },
		.files = (const struct cli_man_file[]){
			{ "/sys/kernel/livepatch", "The loaded livepatches." },
			{ STATE "/status.json", "What a running watch daemon watches (`--state`)." },
			{ NULL } },
		.examples = (const struct cli_man_example[]){
			{ "Patches appearing and going, as JSON lines:", "lpsentinel status --follow --json" },
			{ NULL } },
	},
	{
		.verb = "overhead",
		.description = (const char *const[]){
			"Given a module file: traces every function it replaces for a window, loads "
			"it, waits for the transition, traces as long again, then takes the patch back "
			"out (unless `--keep`). Per function: calls per second, the time the patch "
			"adds per call and the share of a CPU it costs, each with a 95 % interval.",
			"With `--calibrate` and an identical-code patch (make calibration builds the "
			"shipped one), the livepatch redirection is measured apart from the new code.",
			"Given a loaded patch's name: its functions' rates and latency as they run; "
			"the patch is left as it was.",
			NULL },
		.examples = (const struct cli_man_example[]){
			{ "A patch's cost, the redirection calibrated apart:",
			  "lpsentinel overhead --calibrate lps_noop.ko patch.ko" },
			{ NULL } },
	},
	{
		.verb = "revert",
		.description = (const char *const[]){
			"Writes 0 to the patch's enabled file, waits for the unpatch to complete within "
			"`--timeout`, and with `--unload` removes the module. PATCH is a loaded patch's "
			"name or its module file. A stalled transition is reported with its blockers "
			"and their stacks, exit 1, the kernel left as it is; `force` is written only "
			"when asked, and the module can then never be removed.",
			NULL },
		.files = (const struct cli_man_file[]){
			{ "/sys/kernel/livepatch", "The loaded livepatches." },
			{ NULL } },
		.examples = (const struct cli_man_example[]){
			{ "Revert and unload a patch:", "lpsentinel revert --unload lp_fix" },
			{ NULL } },
	},
	{
		.verb = "pool",
		.description = (const char *const[]){
			"One verdict on a patch from the verdicts many hosts wrote on it: files of "
			"`gate --json`, or the daemon's verdicts from its audit trail, one per host. "
			"Every function's windows of every host go through the same checks as gate, "
			"each host a stratum. It is what a fleet rollout runs after each wave; with "
			"`--fleet` and `--previous` its looks spend alpha over the rollout.",
			"A file that is not a verdict, verdicts on different patches or kernel builds, "
			"or two verdicts from one host are one error line; nothing is judged.",
			NULL },
		.exit = {
			[CLI_EXIT_OK] = "Keep (or, before the last wave, nothing regressed so far).",
			[CLI_EXIT_REGRESSED] = "Revert everywhere: the pooled evidence shows a "
					       "regression, or a host did not keep the patch.",
		},
		.examples = (const struct cli_man_example[]){
			{ "The second wave of a 20-host rollout, 4 hosts pooled at the first:",
			  "lpsentinel pool --fleet 20 --previous 4 host*.json" },
			{ NULL } },
	},
	{
		.verb = "report",
		.description = (const char *const[]){
			"One HTML page to look at, or to attach to a change ticket, from verdicts "
			"(files of `gate --json`, the daemon's verdicts) and from a watch daemon's "
			"audit trail of a period (`--audit`). Per function: the latency histograms "
			"before and after on a log axis with p50, p90 and p99 marked, and every check "
			"with its thresholds and p-value; per verdict: the looks over time against "
			"their alpha, the transition and what blocked it, and the revert.",
			"The page is one file: its plots are inline SVG, it has no script, and its "
			"Content-Security-Policy lets it load nothing. Every text from the verdicts is "
			"escaped. `gate --html FILE` writes the same page for the gate just run.",
			NULL },
		.exit = {
			[CLI_EXIT_OK] = "The page was written.",
			[CLI_EXIT_ERROR] = "A file was not a verdict or an audit trail, or the page "
					   "could not be written; one error line, nothing written.",
		},
		.examples = (const struct cli_man_example[]){
			{ "The evidence of one gate:",
			  "lpsentinel gate --json --html gate.html lp_fix.ko > gate.json" },
			{ "The daemon's decisions of one day:",
			  "lpsentinel report --audit /var/lib/lpsentinel --since 2026-12-02 "
			  "--until 2026-12-02 -o day.html" },
			{ NULL } },
	},
};

const struct cli_man_text *cli__man_text(const char *verb)
{
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (verb ? texts[i].verb && !strcmp(texts[i].verb, verb) : !texts[i].verb)
			return &texts[i];
	return NULL;
}

const char *cli__exit_meaning(const struct cli_man_text *t, int code)
{
	return t && t->exit[code] ? t->exit[code] : cli_exit_meaning[code];
}
