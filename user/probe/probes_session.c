// SPDX-License-Identifier: GPL-2.0
/*
 * Session probes, one program for both ends of a call, over the probe set's
 * shared histograms: kprobe sessions (ATTACH_KPROBE_SESSION, bpf/session.bpf.c
 * on one kprobe_multi link per function) and tracing sessions
 * (ATTACH_FSESSION, bpf/fsession.bpf.c on the function's trampoline).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "fsession.skel.h"
#include "session.skel.h"
#include "ksession.h"
#include "ksyms.h"
#include "kretprobe.h"
#include "log.h"
#include "probes_int.h"

/* The function's address: a session link takes addresses (see ksession.c). */
static int session_addr(struct probe_set *ps, const struct probe_info *pi, __u64 *addr,
			struct probe_err *err)
{
	int ret;

	if (pi->addr) {
		*addr = pi->addr;
		return 0;
	}
	if (!ps->ksyms) {
		ret = ksyms__load(&ps->ksyms);
		if (ret) {
			probes__set_err(err, pi->name, "cannot read /proc/kallsyms: %s",
					strerror(-ret));
			return ret;
		}
	}
	*addr = name_table__addr_in(ps->ksyms, pi->probe, pi->module, 1);
	if (!*addr) {
		probes__set_err(err, pi->name, "kprobe_session needs the function's address and "
				"kallsyms hides it (run as root)");
		return -EPERM;
	}
	return 0;
}

/* The load's error, with the libbpf message that names its cause. */
static void load_err(struct probe_err *err, const char *name, const char *what, int ret)
{
	const char *culprit = lps_libbpf_culprit();

	probes__set_err(err, name, "kernel refused to load the %s probe: %s (%d)%s%s%s", what,
			strerror(-ret), ret, culprit[0] ? " (" : "", culprit, culprit[0] ? ")" : "");
}

int probes__load_session(struct probe_set *ps, size_t idx, struct probe_err *err)
{
	struct probe *p = &ps->p[idx];
	const char *name = p->info.name;
	struct session_bpf *skel;
	__u64 addr;
	int ret, fd;

	/* Whether this kernel has session programs was decided in choose_mode(). */
	ret = session_addr(ps, &p->info, &addr, err);
	if (ret)
		return ret;
	ret = probes__shared_maps(ps, err);
	if (ret)
		return ret;
	skel = session_bpf__open();
	if (!skel) {
		ret = -errno;
		probes__set_err(err, name, "cannot open BPF object: %s", strerror(-ret));
		return ret;
	}
	skel->rodata->lps_func_idx = (__u32)idx;
	skel->rodata->lps_ret_kind = p->info.ret_kind;
	/* libbpf 1.1 has no section name for it: the kernel's number, by hand. */
	bpf_program__set_expected_attach_type(skel->progs.lps_ksession,
					      (enum bpf_attach_type)LPS_BPF_TRACE_KPROBE_SESSION);
	ret = bpf_map__reuse_fd(skel->maps.hists, ps->hists_fd);
	if (ret) {
		probes__set_err(err, name, "cannot share BPF maps: %s", strerror(-ret));
		goto fail;
	}
	lps_libbpf_mark();
	ret = session_bpf__load(skel);
	if (ret) {
		load_err(err, name, "kprobe_session", ret);
		goto fail;
	}
	/* Room for as many calls in flight as the kretprobes get (kretprobe.h). */
	fd = ksession__link_create(bpf_program__fd(skel->progs.lps_ksession), addr,
				   ksession__copies((unsigned)kretprobe__default_maxactive(),
						    libbpf_num_possible_cpus()));
	if (fd < 0) {
		ret = fd;
		probes__set_err(err, name, "kernel refused to attach the kprobe_session probe: %s",
				strerror(-ret));
		goto fail;
	}
	p->sess = skel;
	p->sess_link = fd;
	p->info.mode = ATTACH_KPROBE_SESSION;
	return 0;
fail:
	session_bpf__destroy(skel);
	return ret;
}

int probes__load_fsession(struct probe_set *ps, size_t idx, struct probe_err *err)
{
	struct probe *p = &ps->p[idx];
	const char *name = p->info.name;
	int type = ksession__fsession_type();
	struct fsession_bpf *skel;
	int ret;

	/* choose_mode() asked the kernel already; a kernel without it fails here too. */
	if (type < 0) {
		probes__set_err(err, name, "this kernel has no tracing session programs");
		return -EOPNOTSUPP;
	}
	ret = probes__shared_maps(ps, err);
	if (ret)
		return ret;
	skel = fsession_bpf__open();
	if (!skel) {
		ret = -errno;
		probes__set_err(err, name, "cannot open BPF object: %s", strerror(-ret));
		return ret;
	}
	skel->rodata->lps_func_idx = (__u32)idx;
	skel->rodata->lps_ret_kind = p->info.ret_kind;
	/* The kernel's own number for it, from its BTF: libbpf 1.1 predates it. */
	bpf_program__set_expected_attach_type(skel->progs.lps_fsession, (enum bpf_attach_type)type);
	ret = bpf_program__set_attach_target(skel->progs.lps_fsession, 0, p->info.probe);
	if (ret) {
		probes__set_err(err, name, "no BTF target for fsession: %s", strerror(-ret));
		goto fail;
	}
	ret = bpf_map__reuse_fd(skel->maps.hists, ps->hists_fd);
	if (ret) {
		probes__set_err(err, name, "cannot share BPF maps: %s", strerror(-ret));
		goto fail;
	}
	lps_libbpf_mark();
	ret = fsession_bpf__load(skel);
	if (ret) {
		load_err(err, name, "fsession", ret);
		goto fail;
	}
	/* A tracing link like fentry's: libbpf passes the attach type through. */
	skel->links.lps_fsession = bpf_program__attach_trace(skel->progs.lps_fsession);
	if (!skel->links.lps_fsession) {
		ret = -errno;
		probes__set_err(err, name, "kernel refused to attach the fsession probe: %s",
				strerror(-ret));
		goto fail;
	}
	p->fsess = skel;
	p->info.mode = ATTACH_FSESSION;
	return 0;
fail:
	fsession_bpf__destroy(skel);
	return ret;
}

void probes__unload_session(struct probe *p)
{
	if (p->sess_link >= 0)
		close(p->sess_link);
	p->sess_link = -1;
	session_bpf__destroy(p->sess);
	p->sess = NULL;
	fsession_bpf__destroy(p->fsess);
	p->fsess = NULL;
}
