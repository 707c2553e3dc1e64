// SPDX-License-Identifier: GPL-2.0
/*
 * The document is built from libyaml's events instead of yaml_parser_load:
 * the loader would accept a second document, share nodes through aliases
 * (even a node inside itself), nest without limit and keep a key given twice,
 * and it reports encoding errors without a line. Here each of those is
 * refused at the event that brings it, with the event's line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rules_yaml.h"
#include "text.h"

struct level {
	int node;		/* the open sequence or mapping */
	int key;		/* a mapping's key waiting for its value (0: none) */
};

struct builder {
	const char *name, *buf;
	size_t len;
	yaml_document_t *doc;
	struct level stack[RULES_YAML_MAX_DEPTH];
	int depth;
	size_t nodes, docs;
	char *why;
	size_t why_len;
};

static int fail(const struct builder *b, size_t line0, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One line, "NAME:LINE: reason"; libyaml's lines count from 0. */
static int fail(const struct builder *b, size_t line0, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(b->why, b->why_len, "%s:%zu: %s", b->name, line0 + 1, msg);
	return -EINVAL;
}

static int no_memory(const struct builder *b)
{
	snprintf(b->why, b->why_len, "%s: out of memory", b->name);
	return -ENOMEM;
}

/*
 * libyaml's own error. A reader error (bad UTF-8, a control character) has
 * only a byte offset, not a mark: its line is counted here. A scanner or
 * parser error has the mark of the problem and often the context it was in
 * ("while parsing a flow sequence" at the line of the '[').
 */
static int syntax_error(const struct builder *b, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "malformed YAML";
	size_t line = p->problem_mark.line;

	if (p->error == YAML_MEMORY_ERROR)
		return no_memory(b);
	if (p->error == YAML_READER_ERROR) {
		size_t end = p->problem_offset < b->len ? p->problem_offset : b->len;

		line = 0;
		for (size_t i = 0; i < end; i++)
			line += b->buf[i] == '\n';
		return fail(b, line, "%s (at byte offset %zu)", problem, p->problem_offset);
	}
	if (p->context && p->context_mark.line != line)
		return fail(b, line, "%s (%s at line %zu)", problem, p->context,
			    p->context_mark.line + 1);
	if (p->context)
		return fail(b, line, "%s %s", p->context, problem);
	return fail(b, line, "%s", problem);
}

/* Anchors, aliases and tags: a rules file has no use for them. */
static int plain_node(struct builder *b, const yaml_event_t *ev, const yaml_char_t *anchor,
		      const yaml_char_t *tag)
{
	if (anchor)
		return fail(b, ev->start_mark.line, "anchors (&) and aliases (*) are not allowed "
			    "in a rules file");
	if (tag)
		return fail(b, ev->start_mark.line, "tags (!) are not allowed in a rules file");
	if (++b->nodes > RULES_YAML_MAX_NODES)
		return fail(b, ev->start_mark.line, "more than %d YAML nodes", RULES_YAML_MAX_NODES);
	return 0;
}

/* Node ID, just made by EV, into the open collection (or it is the root). */
static int attach(struct builder *b, int id, const yaml_event_t *ev)
{
	yaml_node_t *n = yaml_document_get_node(b->doc, id);
	struct level *l;
	int ok;

	n->start_mark = ev->start_mark;
	n->end_mark = ev->end_mark;
	if (!b->depth)
		return 0;	/* the first node made is the document's root */
	l = &b->stack[b->depth - 1];
	if (yaml_document_get_node(b->doc, l->node)->type == YAML_SEQUENCE_NODE) {
		ok = yaml_document_append_sequence_item(b->doc, l->node, id);
	} else if (!l->key) {
		if (n->type != YAML_SCALAR_NODE)
			return fail(b, ev->start_mark.line, "keys must be plain names");
		l->key = id;
		return 0;
	} else {
		ok = yaml_document_append_mapping_pair(b->doc, l->node, l->key, id);
		l->key = 0;
	}
	return ok ? 0 : no_memory(b);
}

struct key_ref {
	const char *s;
	size_t line, idx;
};

static int key_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = strcmp(x->s, y->s);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/*
 * A key given twice in mapping ID: sorted, not compared pairwise, so a
 * mapping of a million keys costs a sort, not a trillion comparisons. The
 * second of the earliest repeated key is reported.
 */
static int unique_keys(const struct builder *b, int id)
{
	yaml_node_t *m = yaml_document_get_node(b->doc, id);
	size_t n = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
	const struct key_ref *dup = NULL, *first = NULL;
	struct key_ref *v;

	if (n < 2)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return no_memory(b);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *k = yaml_document_get_node(b->doc, m->data.mapping.pairs.start[i].key);

		v[i] = (struct key_ref){ (const char *)k->data.scalar.value, k->start_mark.line, i };
	}
	qsort(v, n, sizeof(*v), key_cmp);
	for (size_t i = 1, g = 0; i < n; i++) {
		if (strcmp(v[i].s, v[g].s)) {
			g = i;
			continue;
		}
		if (i == g + 1 && (!dup || v[i].idx < dup->idx)) {
			dup = &v[i];
			first = &v[g];
		}
	}
	if (dup)
		fail(b, dup->line, "key \"%.64s\" given twice (first at line %zu)", dup->s,
		     first->line + 1);
	free(v);
	return dup ? -EINVAL : 0;
}

/* One event into the document; *done at the end of the stream. */
static int on_event(struct builder *b, const yaml_event_t *ev, bool *done)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	int id, ret;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->docs++)
			return fail(b, ev->start_mark.line,
				    "a second YAML document: a rules file is one document");
		return 0;
	case YAML_STREAM_END_EVENT:
		*done = true;
		return 0;
	case YAML_ALIAS_EVENT:
		return plain_node(b, ev, ev->data.alias.anchor, NULL);
	case YAML_SCALAR_EVENT:
		ret = plain_node(b, ev, ev->data.scalar.anchor, ev->data.scalar.tag);
		if (ret)
			return ret;
		/* A NUL inside fails too: a "\0" escape would hide the rest from C strings. */
		if (!text__is_printable((const char *)ev->data.scalar.value, ev->data.scalar.length))
			return fail(b, ev->start_mark.line,
				    "a value with a byte that is not printable ASCII");
		id = yaml_document_add_scalar(b->doc, NULL, ev->data.scalar.value,
					      (int)ev->data.scalar.length, ev->data.scalar.style);
		return id ? attach(b, id, ev) : no_memory(b);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			anchor = ev->data.sequence_start.anchor;
			tag = ev->data.sequence_start.tag;
		} else {
			anchor = ev->data.mapping_start.anchor;
			tag = ev->data.mapping_start.tag;
		}
		ret = plain_node(b, ev, anchor, tag);
		if (ret)
			return ret;
		if (b->depth == RULES_YAML_MAX_DEPTH)
			return fail(b, ev->start_mark.line, "nested deeper than %d levels",
				    RULES_YAML_MAX_DEPTH);
		if (ev->type == YAML_SEQUENCE_START_EVENT)
			id = yaml_document_add_sequence(b->doc, NULL,
							ev->data.sequence_start.style);
		else
			id = yaml_document_add_mapping(b->doc, NULL, ev->data.mapping_start.style);
		ret = id ? attach(b, id, ev) : no_memory(b);
		if (ret)
			return ret;
		b->stack[b->depth++] = (struct level){ .node = id };
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		id = b->stack[--b->depth].node;
		yaml_document_get_node(b->doc, id)->end_mark = ev->end_mark;
		return ev->type == YAML_MAPPING_END_EVENT ? unique_keys(b, id) : 0;
	default:		/* stream start, document end, no event */
		return 0;
	}
}

int rules_yaml__load(const char *name, const char *buf, size_t len, yaml_document_t *doc,
		     char *why, size_t why_len)
{
	struct builder b = { .name = name, .buf = buf, .len = len, .doc = doc, .why = why,
			     .why_len = why_len };
	yaml_parser_t parser;
	bool done = false;
	int ret = 0;

	if (!yaml_parser_initialize(&parser))
		return no_memory(&b);
	if (!yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1)) {
		yaml_parser_delete(&parser);
		return no_memory(&b);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	/* UTF-8 only: no guessing UTF-16 from a byte order mark. */
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	while (!ret && !done) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			ret = syntax_error(&b, &parser);
			break;
		}
		ret = on_event(&b, &ev, &done);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (ret)
		yaml_document_delete(doc);
	return ret;
}
