// SPDX-License-Identifier: GPL-2.0
/*
 * Gates that hand their patch to the daemon (control.c carries the requests):
 * the module is opened and inspected once, functions not watched yet are
 * traced, and the patch is loaded from that same descriptor once every
 * function has a full baseline; its judgement then follows as for any patch.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "control.h"
#include "klp_control.h"
#include "log.h"
#include "safe_file.h"
#include "clock.h"
#include "watch.h"

struct watch_client *watch__client(struct watch *w, const char *patch)
{
	for (struct watch_client *c = w->clients; c; c = c->next)
		if (!strcmp(c->patch, patch))
			return c;
	return NULL;
}

void watch__client_done(struct watch *w, struct watch_client *c, struct json_object *doc)
{
	struct watch_client **pp = &w->clients;

	/* A gate that went away meanwhile only misses the reply: the audit trail has it. */
	control_server__reply(&w->ctl, c->conn, doc);
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	/* Rare (the daemon stops, or a judgement ended while the load still ran): it is waited for. */
	if (c->load == CLIENT_LOADING)
		pthread_join(c->loader, NULL);
	klp_life__close(&c->life);
	rules__free(&c->rules);
	free(c);
}

void watch_clients__error(struct watch *w, struct watch_client *c, const char *fmt, ...)
{
	struct json_object *doc = json_object_new_object();
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(doc, "error", json_object_new_string(msg));
	fprintf(stderr, "lpsentinel watch: gate request: %s\n", msg);
	watch__client_done(w, c, doc);
	json_object_put(doc);
}

/*
 * A gate hands over its patch: inspect it, trace what is not watched yet,
 * and load it once every function has a full baseline (watch_clients__serve).
 * The request parsed (control.c); the files it names are opened here without
 * blocking, and the module, which root will load, must be root's alone.
 */
static void take_request(void *arg, struct control_server *s, int conn,
			 const struct control_request *req)
{
	struct watch *w = arg;
	struct watch_client *c = calloc(1, sizeof(*c));
	struct klp_module_info mod = { 0 };
	const char **fresh = NULL, **objs = NULL;
	unsigned long *sympos = NULL;
	double need = 0;
	size_t nfresh = 0;
	char why[512];
	int fd;

	if (!c) {
		control_server__error(s, conn, "out of memory");
		return;
	}
	c->conn = conn;
	c->life.fd = -1;
	c->next = w->clients;
	w->clients = c;
	c->def = w->def;
	snprintf(c->module, sizeof(c->module), "%s", req->module);
	if (req->rules[0]) {
		/* Checked first: rules__load reads by path, and a FIFO there would block. */
		fd = safe_file__open(AT_FDCWD, req->rules, 0, SAFE_FILE_MAX_TEXT, why, sizeof(why));
		if (fd < 0) {
			watch_clients__error(w, c, "rules: %s: %s", req->rules, why);
			return;
		}
		close(fd);
		if (rules__load(req->rules, &c->rules, why, sizeof(why))) {
			watch_clients__error(w, c, "rules: %s", why);
			return;
		}
		c->def = c->rules.defaults;
	}
	if (req->baseline_s)
		c->def.baseline_s = req->baseline_s;
	if (req->observe_s)
		c->def.observe_s = req->observe_s;
	/* Opened once: what is inspected now is what is loaded when the baselines are ready. */
	fd = safe_file__open(AT_FDCWD, c->module, SAFE_ROOT_ONLY, SAFE_FILE_MAX_KO, why,
			     sizeof(why));
	if (fd < 0) {
		watch_clients__error(w, c, "%s: %s", c->module, why);
		return;
	}
	if (klp_life__open_fd(&c->life, fd, c->module, &mod, why, sizeof(why))) {
		watch_clients__error(w, c, "%s: %s", c->module, why);
		return;
	}
	snprintf(c->patch, sizeof(c->patch), "%s", mod.patch);
	snprintf(c->life.params, sizeof(c->life.params), "%s", req->params);	/* checked */
	for (struct watch_client *o = c->next; o; o = o->next)
		if (!strcmp(o->patch, c->patch)) {
			watch_clients__error(w, c, "%s: another gate already handed this patch over",
					     c->patch);
			goto cleanup;
		}
	if (klp_control__module_loaded(mod.patch)) {
		watch_clients__error(w, c, "%s: a module of that name is already loaded", mod.patch);
		goto cleanup;
	}
	fresh = calloc(mod.n + 1, sizeof(*fresh));
	objs = calloc(mod.n + 1, sizeof(*objs));
	sympos = calloc(mod.n + 1, sizeof(*sympos));
	for (size_t i = 0; fresh && objs && sympos && i < mod.n; i++) {
		struct watch_fn *fn = watch__find_fn(w, mod.targets[i].function);
		double have = fn ? (double)ring__older(&fn->tick) * w->tick_s : 0;

		if (!fn) {
			objs[nfresh] = mod.targets[i].object;
			sympos[nfresh] = mod.targets[i].sympos;
			fresh[nfresh++] = mod.targets[i].function;
		}
		/* The ring holds at most the daemon's baseline_s: a longer one is not waited for. */
		need = fmax(need, fmin(c->def.baseline_s, w->def.baseline_s) - have);
	}
	if (nfresh && watch__add_group(w, fresh, objs, sympos, nfresh, why, sizeof(why))) {
		watch_clients__error(w, c, "%s", why);
		goto cleanup;
	}
	c->t_ready = clock__now_s() + need + w->tick_s;
	fprintf(stderr, "lpsentinel watch: gate request for %s (%zu functions), loading in %.0fs\n",
		c->patch, mod.n, need + w->tick_s);
cleanup:
	free(fresh);
	free(objs);
	free(sympos);
	klp_module_info__free(&mod);
}

void watch_clients__io(struct watch *w, double timeout_s)
{
	control_server__poll(&w->ctl, timeout_s, take_request, w);
}

static void load(struct watch_client *c)
{
	double t0 = clock__now_s();

	c->load_ret = klp_life__load(&c->life, c->load_why, sizeof(c->load_why));
	c->load_s = clock__now_s() - t0;
	atomic_store(&c->load_done, true);
}

static void *load_main(void *arg)
{
	sigset_t all;

	/* Signals are the loop's to take: none interrupts the load. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	load(arg);
	return NULL;
}

/* The loader finished: its outcome, as the loop sees it. */
static void loaded(struct watch *w, struct watch_client *c)
{
	pthread_join(c->loader, NULL);
	c->load = CLIENT_LOADED;
	if (c->load_ret) {
		watch_clients__error(w, c, "%s", c->load_why);
		return;
	}
	c->t_ready = clock__now_s();	/* from now: the judgement must begin */
	fprintf(stderr, "lpsentinel watch: loaded %s for a gate (finit_module took %.1fs)\n",
		c->patch, c->load_s);
}

void watch_clients__serve(struct watch *w)
{
	struct watch_client *c = w->clients, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->load == CLIENT_LOADING) {
			if (atomic_load(&c->load_done))
				loaded(w, c);
			continue;
		}
		if (c->load == CLIENT_LOADED && !watch_judge__active(w, c->patch) &&
		    clock__now_s() - c->t_ready > 10 * w->tick_s + 5) {
			watch_clients__error(w, c, "%s: loaded, but it never showed up in %s to be "
					     "judged; see lpsentinel status", c->patch,
					     KLP_SYSFS_ROOT_DEFAULT);
			continue;
		}
		if (c->load == CLIENT_LOADED || clock__now_s() < c->t_ready)
			continue;
		c->load = CLIENT_LOADING;
		atomic_store(&c->load_done, false);
		if (pthread_create(&c->loader, NULL, load_main, c)) {
			/* No thread to be had: loaded here, the loop waiting. */
			load(c);
			c->load = CLIENT_LOADED;
			if (c->load_ret) {
				watch_clients__error(w, c, "%s", c->load_why);
				continue;
			}
			c->t_ready = clock__now_s();
		}
	}
}
