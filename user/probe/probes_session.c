// SPDX-License-Identifier: GPL-2.0
/*
 * Kprobe session probes (ATTACH_KPROBE_SESSION): bpf/session.bpf.c on one
 * kprobe_multi link per function, over the probe set's shared histograms.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
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
		const char *culprit = lps_libbpf_culprit();

		probes__set_err(err, name, "kernel refused to load the kprobe_session probe: "
				"%s (%d)%s%s%s", strerror(-ret), ret, culprit[0] ? " (" : "",
				culprit, culprit[0] ? ")" : "");
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

void probes__unload_session(struct probe *p)
{
	if (p->sess_link >= 0)
		close(p->sess_link);
	p->sess_link = -1;
	session_bpf__destroy(p->sess);
	p->sess = NULL;
}
