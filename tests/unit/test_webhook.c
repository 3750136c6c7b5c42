/*
 * test_webhook.c - core/webhook.c: what a GitLab delivery says
 * (sh_webhook_parse) and which runs it makes (sh_webhook_decide), on the
 * real payloads in FIXTURES_DIR and on hostile variants of them.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stackhook/json.h"
#include "stackhook/webhook.h"
#include "testutil.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define ZEROS "0000000000000000000000000000000000000000"

/* push.json */
#define PUSH_SHA "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
/* the drone/go-scm captures of gitlab-org/hello-world */
#define HELLO_SHA "c4c79227ed610f1151f05bbc5be33b4f340d39c8"

/* ------------------------------------------------------------------ */
/* helpers */

/* The fixture called name, parsed as a delivery body is. */
static cJSON *
fixture(const char *name)
{
	char path[PATH_MAX];
	struct sh_err err;
	cJSON *body = NULL;
	size_t len = 0;
	char *text;

	tu_join(path, FIXTURES_DIR, name);
	text = tu_read_file(path, &len);
	if (text == NULL)
		fail_msg("cannot read %s", path);
	sh_err_clear(&err);
	if (sh_json_parse_object(text, len, &body, &err) < 0) {
		free(text);
		fail_msg("%s: %s", path, err.msg);
	}
	free(text);
	return body;
}

/* Parses body into ev; fails the test on an error. */
static void
parse_ok(const cJSON *body, struct sh_event *ev)
{
	struct sh_err err;

	sh_err_clear(&err);
	if (sh_webhook_parse(body, ev, &err) != 0)
		fail_msg("parse failed: %s (field %s)", err.msg, err.field);
}

/* A fixture and the event parsed from it. */
struct parsed {
	cJSON *body;
	struct sh_event ev;
};

/* Loads fixture name and parses it into p (fails the test on an error);
 * returns the event.  parsed_release() undoes it. */
static const struct sh_event *
parse_fixture(struct parsed *p, const char *name)
{
	p->body = fixture(name);
	parse_ok(p->body, &p->ev);
	return &p->ev;
}

static void
parsed_release(struct parsed *p)
{
	sh_webhook_event_release(&p->ev);
	cJSON_Delete(p->body);
}

/* Expects parsing to fail with code naming field. */
static void
parse_fails(const cJSON *body, enum sh_errcode code, const char *field)
{
	struct sh_event ev;
	struct sh_err err;

	sh_err_clear(&err);
	if (sh_webhook_parse(body, &ev, &err) != -1)
		fail_msg("parse succeeded (ignored=%d, reason \"%s\"); expected %s "
			 "on %s", ev.ignored, ev.reason, sh_err_code_name(code), field);
	if (err.code != code || strcmp(err.field, field) != 0)
		fail_msg("expected %s on \"%s\", got %s on \"%s\": %s",
			 sh_err_code_name(code), field, sh_err_code_name(err.code),
			 err.field, err.msg);
	assert_true(err.msg[0] != '\0');
}

/* Parses body into ev and expects an ignore rule to apply before field
 * checks, for a reason that mentions reason_part (unless NULL). */
static void
parse_ignored_into(const cJSON *body, const char *reason_part,
		   struct sh_event *ev)
{
	parse_ok(body, ev);
	if (!ev->ignored)
		fail_msg("the delivery was not ignored");
	assert_true(ev->reason[0] != '\0');
	if (reason_part != NULL && strstr(ev->reason, reason_part) == NULL)
		fail_msg("reason \"%s\" does not mention \"%s\"", ev->reason,
			 reason_part);
}

static void
parse_ignored(const cJSON *body, const char *reason_part)
{
	struct sh_event ev;

	parse_ignored_into(body, reason_part, &ev);
}

static const struct sh_stack_target stack_master = {
	.id = "vpc", .is_module = false, .branch = "master", .project_root = "",
};
static const struct sh_stack_target stack_develop = {
	.id = "vpc-dev", .is_module = false, .branch = "develop", .project_root = "",
};
static const struct sh_stack_target module_master = {
	.id = "net-module", .is_module = true, .branch = "master", .project_root = "",
};
/* The targets an ignored event must leave alone. */
static const struct sh_stack_target *const standard_targets[] = {
	&stack_master, &stack_develop, &module_master,
};

/*
 * What a push or tag push says of itself: its kind, the branch or tag
 * name (ref is refs/heads/ or refs/tags/ and name), before, checkout_sha
 * and the project; not ignored.
 */
static void
expect_ref_event(const struct sh_event *ev, enum sh_event_kind kind,
		 const char *name, const char *before, const char *checkout_sha,
		 int64_t project_id, const char *project_path)
{
	bool tag = kind == SH_EVENT_TAG_PUSH;
	char ref[SH_GIT_REF_MAX + 16];

	snprintf(ref, sizeof(ref), "refs/%s/%s", tag ? "tags" : "heads", name);
	assert_int_equal(ev->kind, kind);
	assert_string_equal(ev->object_kind, tag ? "tag_push" : "push");
	assert_false(ev->ignored);
	assert_string_equal(ev->ref, ref);
	assert_string_equal(ev->name, name);
	assert_string_equal(ev->before, before);
	assert_string_equal(ev->checkout_sha, checkout_sha);
	assert_int_equal(ev->project_id, project_id);
	assert_string_equal(ev->project_path, project_path);
}

static void
expect_run(const struct sh_event *ev, const struct sh_stack_target *t,
	   enum sh_run_kind kind, enum sh_trigger trigger, const char *sha,
	   const char *ref, int64_t iid)
{
	struct sh_decision d;

	sh_webhook_decide(ev, t, &d);
	if (!d.run)
		fail_msg("%s: no run (%s)", t->id, d.reason);
	if (d.kind != kind)
		fail_msg("%s: a %s run, expected %s", t->id, sh_run_kind_name(d.kind),
			 sh_run_kind_name(kind));
	if (d.trigger != trigger)
		fail_msg("%s: trigger %s, expected %s", t->id,
			 sh_trigger_name(d.trigger), sh_trigger_name(trigger));
	assert_string_equal(d.sha, sha);
	assert_string_equal(d.ref, ref);
	assert_int_equal(d.mr_iid, iid);
}

static void
expect_no_run(const struct sh_event *ev, const struct sh_stack_target *t,
	      const char *reason_part)
{
	struct sh_decision d;

	sh_webhook_decide(ev, t, &d);
	if (d.run)
		fail_msg("%s: a %s run on %s, expected none", t->id,
			 sh_run_kind_name(d.kind), d.sha);
	assert_true(d.reason[0] != '\0');
	if (reason_part != NULL && strstr(d.reason, reason_part) == NULL)
		fail_msg("%s: reason \"%s\" does not mention \"%s\"", t->id, d.reason,
			 reason_part);
}

/* expect_no_run on every one of the standard targets. */
static void
expect_no_runs(const struct sh_event *ev, const char *reason_part)
{
	for (size_t i = 0; i < COUNT(standard_targets); i++)
		expect_no_run(ev, standard_targets[i], reason_part);
}

/* The kind of run one target must get. */
struct run_want {
	const struct sh_stack_target *target;
	enum sh_run_kind kind;
};

/* expect_run on each target of want: one event makes runs of one commit
 * and ref, only their kinds differ. */
static void
expect_runs(const struct sh_event *ev, enum sh_trigger trigger, const char *sha,
	    const char *ref, int64_t iid, const struct run_want *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		expect_run(ev, want[i].target, want[i].kind, trigger, sha, ref, iid);
}

#define EXPECT_RUNS(ev, trigger, sha, ref, iid, ...)                           \
	expect_runs(ev, trigger, sha, ref, iid,                                \
		    (const struct run_want[]){__VA_ARGS__},                    \
		    COUNT(((const struct run_want[]){__VA_ARGS__})))

/* Replaces member name of obj (an object) with item (taken). */
static void
set(cJSON *obj, const char *name, cJSON *item)
{
	assert_non_null(obj);
	assert_non_null(item);
	if (cJSON_GetObjectItemCaseSensitive(obj, name) != NULL)
		assert_true(cJSON_ReplaceItemInObjectCaseSensitive(obj, name, item));
	else
		cJSON_AddItemToObject(obj, name, item);
}

static cJSON *
member(cJSON *obj, const char *name)
{
	cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	assert_non_null(item);
	return item;
}

/*
 * The fixture file with the member at path (dotted, as errors name it:
 * "project.id") replaced by item (taken), or deleted when item is NULL,
 * must fail to parse with code on that same path.
 */
static void
mutant_fails(const char *file, const char *path, cJSON *item,
	     enum sh_errcode code)
{
	cJSON *body = fixture(file), *obj = body;
	const char *name = path, *dot;
	char part[64];

	while ((dot = strchr(name, '.')) != NULL) {
		snprintf(part, sizeof(part), "%.*s", (int)(dot - name), name);
		obj = member(obj, part);
		name = dot + 1;
	}
	if (item == NULL)
		cJSON_DeleteItemFromObject(obj, name);
	else
		set(obj, name, item);
	parse_fails(body, code, path);
	cJSON_Delete(body);
}

/* A value in the tables of field checks: NULL deletes the member, "#"
 * and JSON text is that JSON ("#null", "#42"), anything else a string. */
static cJSON *
case_value(const char *value)
{
	cJSON *item;

	if (value == NULL)
		return NULL;
	if (value[0] != '#')
		return cJSON_CreateString(value);
	item = cJSON_Parse(value + 1);
	assert_non_null(item);
	return item;
}

/* One mutant of a fixture and the error it must get (see mutant_fails). */
struct field_case {
	const char *path;
	const char *value; /* see case_value */
	enum sh_errcode code;
};

static void
mutants_fail(const char *file, const struct field_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mutant_fails(file, cases[i].path, case_value(cases[i].value),
			     cases[i].code);
}

/* A commit object with one path changed in list ("added", "modified" or
 * "removed"). */
static cJSON *
commit_touching(const char *sha, const char *list, const char *path)
{
	static const char *const lists[] = {"added", "modified", "removed"};
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "id", sha);
	for (size_t i = 0; i < COUNT(lists); i++) {
		cJSON *arr = cJSON_AddArrayToObject(c, lists[i]);

		if (strcmp(lists[i], list) == 0)
			cJSON_AddItemToArray(arr, cJSON_CreateString(path));
	}
	return c;
}

/* ------------------------------------------------------------------ */
/* push.json: master, 2 of 4 commits listed */

static void
test_push(void **state)
{
	struct parsed p;
	const struct sh_event *ev;

	(void)state;
	ev = parse_fixture(&p, "push.json");
	expect_ref_event(ev, SH_EVENT_PUSH, "master",
			 "95790bf891e76fee5e1747ab589903a6a1f80f22", PUSH_SHA, 15,
			 "mike/diaspora");
	assert_string_equal(ev->after, PUSH_SHA);
	assert_false(ev->commits_complete); /* total_commits_count is 4 */
	assert_null(ev->paths); /* they would not decide anything */

	EXPECT_RUNS(ev, SH_TRIGGER_PUSH, PUSH_SHA, "master", 0,
		    {&stack_master, SH_RUN_TRACKED}, {&stack_develop, SH_RUN_PROPOSED},
		    {&module_master, SH_RUN_TRACKED});
	parsed_release(&p);
}

/* body, a push whose commit list may be short, runs t (on master) whatever
 * its project_root. */
static void
expect_unfiltered_run(const cJSON *body, const struct sh_stack_target *t)
{
	struct sh_event ev;

	parse_ok(body, &ev);
	assert_false(ev.commits_complete);
	expect_run(&ev, t, SH_RUN_TRACKED, SH_TRIGGER_PUSH, PUSH_SHA, "master", 0);
}

/* push.json made complete (total_commits_count = 2), parsed into ev. */
static cJSON *
parse_complete(cJSON *body, struct sh_event *ev)
{
	set(body, "total_commits_count", cJSON_CreateNumber(2));
	parse_ok(body, ev);
	assert_true(ev->commits_complete);
	return body;
}

/* The listed commits touch only CHANGELOG and app/controller/...; with
 * commits missing from the list the push may touch anything: it runs. */
static void
test_push_truncated_ignores_project_root(void **state)
{
	static const struct sh_stack_target docs = {
		.id = "docs", .branch = "master", .project_root = "docs",
	};
	cJSON *body = fixture("push.json");

	(void)state;
	expect_unfiltered_run(body, &docs);

	/* without total_commits_count nobody knows: runs too */
	cJSON_DeleteItemFromObject(body, "total_commits_count");
	expect_unfiltered_run(body, &docs);

	/* nor when it is not a number */
	set(body, "total_commits_count", cJSON_CreateString("2"));
	expect_unfiltered_run(body, &docs);
	cJSON_Delete(body);
}

/* push.json made complete (total_commits_count = 2): the project_root
 * filter applies. */
static void
test_push_complete_project_root(void **state)
{
	static const struct {
		const char *root;
		bool runs;
	} roots[] = {
		{"", true},
		{"app", true},
		{"app/controller", true},
		{"docs", false},
		{"ap", false},         /* a prefix of "app" is not "app" */
		{"app/controllers", false},
		{"app/controller/application.rb/x", false},
		{"App", false},        /* paths are case-sensitive */
	};
	cJSON *body = fixture("push.json");
	struct sh_event ev;

	(void)state;
	parse_complete(body, &ev);
	cJSON_Delete(body); /* the event stands on its own */
	for (size_t i = 0; i < COUNT(roots); i++) {
		struct sh_stack_target t = {
			.id = "s", .branch = "master", .project_root = roots[i].root,
		};

		if (roots[i].runs)
			expect_run(&ev, &t, SH_RUN_TRACKED, SH_TRIGGER_PUSH, PUSH_SHA,
				   "master", 0);
		else
			expect_no_run(&ev, &t, roots[i].root);
	}
	sh_webhook_event_release(&ev);
}

/* Paths count whether added, modified or removed, in any listed commit. */
static void
test_push_complete_added_modified_removed(void **state)
{
	static const char *const lists[] = {"added", "modified", "removed"};
	static const struct sh_stack_target infra = {
		.id = "infra", .branch = "master", .project_root = "infra/vpc",
	};

	(void)state;
	for (size_t i = 0; i < COUNT(lists); i++) {
		cJSON *body = fixture("push.json"), *commits = cJSON_CreateArray();
		struct sh_event ev;

		cJSON_AddItemToArray(commits, commit_touching(
			"b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327", "modified", "README.md"));
		cJSON_AddItemToArray(commits, commit_touching(PUSH_SHA, lists[i],
							      "infra/vpc/main.tf"));
		set(body, "commits", commits);
		parse_complete(body, &ev);
		expect_run(&ev, &infra, SH_RUN_TRACKED, SH_TRIGGER_PUSH, PUSH_SHA,
			   "master", 0);
		sh_webhook_event_release(&ev);
		cJSON_Delete(body);
	}
}

/* A push with every commit listed and none of them under the root. */
static void
test_push_complete_outside_root_other_branch(void **state)
{
	static const struct sh_stack_target infra = {
		.id = "infra", .branch = "main", .project_root = "infra",
	};
	cJSON *body = fixture("push.json");
	struct sh_event ev;

	(void)state;
	parse_complete(body, &ev);
	/* also for a proposed run */
	expect_no_run(&ev, &infra, "infra");
	sh_webhook_event_release(&ev);
	cJSON_Delete(body);
}

/* ------------------------------------------------------------------ */
/* branch creation and deletion, merge commits, subgroups */

static void
test_push_branch_create(void **state)
{
	static const struct sh_stack_target feature = {
		.id = "feat", .branch = "feature", .project_root = "",
	};
	static const struct sh_stack_target docs = {
		.id = "docs", .branch = "feature", .project_root = "docs",
	};
	struct parsed p;
	const struct sh_event *ev;

	(void)state;
	ev = parse_fixture(&p, "push_branch_create.json");
	expect_ref_event(ev, SH_EVENT_PUSH, "feature", ZEROS, HELLO_SHA, 4861503,
			 "gitlab-org/hello-world");
	assert_true(ev->commits_complete); /* 1 of 1 */
	EXPECT_RUNS(ev, SH_TRIGGER_PUSH, HELLO_SHA, "feature", 0,
		    {&stack_master, SH_RUN_PROPOSED}, {&module_master, SH_RUN_PROPOSED},
		    {&feature, SH_RUN_TRACKED});
	/* the one commit changes README.md only */
	expect_no_run(ev, &docs, "docs");
	parsed_release(&p);
}

static void
test_push_branch_delete(void **state)
{
	cJSON *body = fixture("push_branch_delete.json");
	struct sh_event ev;

	(void)state;
	/* checkout_sha is null: not an error, the event is ignored */
	assert_true(cJSON_IsNull(member(body, "checkout_sha")));
	parse_ignored_into(body, "deleted", &ev);
	assert_int_equal(ev.kind, SH_EVENT_PUSH);
	assert_non_null(strstr(ev.reason, "feature"));
	expect_no_runs(&ev, "deleted");
	expect_no_run(&ev, &(struct sh_stack_target){.id = "f", .branch = "feature",
						     .project_root = ""},
		      "deleted");

	/* ignore rules come before field checks: nothing else is needed */
	cJSON_DeleteItemFromObject(body, "project");
	cJSON_DeleteItemFromObject(body, "project_id");
	cJSON_DeleteItemFromObject(body, "checkout_sha");
	set(body, "before", cJSON_CreateNumber(1));
	set(body, "ref", cJSON_CreateNumber(2));
	parse_ignored(body, "deleted");
	cJSON_Delete(body);
}

static void
test_push_merge_commit(void **state)
{
	static const char merge_sha[] = "78a76ee6b4992a6baf64c59fc4c44c7323d60438";
	struct parsed p;
	const struct sh_event *ev;

	(void)state;
	ev = parse_fixture(&p, "push_merge_commit.json");
	expect_ref_event(ev, SH_EVENT_PUSH, "master",
			 "2adc9465c4edfc33834e173fe89436a7cb899a1d", merge_sha, 4861503,
			 "gitlab-org/hello-world");
	assert_true(ev->commits_complete);
	EXPECT_RUNS(ev, SH_TRIGGER_PUSH, merge_sha, "master", 0,
		    {&stack_master, SH_RUN_TRACKED}, {&stack_develop, SH_RUN_PROPOSED});
	parsed_release(&p);
}

static void
test_push_subgroup(void **state)
{
	static const char sha[] = "2adc9465c4edfc33834e173fe89436a7cb899a1d";
	struct parsed p;
	const struct sh_event *ev;

	(void)state;
	ev = parse_fixture(&p, "push_subgroup.json");
	expect_ref_event(ev, SH_EVENT_PUSH, "master",
			 "9217710ce8c7e1eae7a5d1c45f6e43e1c769f866", sha, 4861503,
			 "group1/group2/group3/grp2repo");
	assert_true(ev->commits_complete);
	expect_run(ev, &stack_master, SH_RUN_TRACKED, SH_TRIGGER_PUSH, sha,
		   "master", 0);
	/* README.md was added at the top */
	expect_no_run(ev, &(struct sh_stack_target){.id = "s", .branch = "master",
						     .project_root = "infra"},
		      NULL);
	parsed_release(&p);
}

/* Upper-case hex is a commit id too; the run keeps the canonical form. */
static void
test_push_sha_case(void **state)
{
	cJSON *body = fixture("push.json");
	struct sh_event ev;

	(void)state;
	set(body, "checkout_sha",
	    cJSON_CreateString("DA1560886D4F094C3E6C9EF40349F7D38B5D27D7"));
	parse_ok(body, &ev);
	expect_run(&ev, &stack_master, SH_RUN_TRACKED, SH_TRIGGER_PUSH, PUSH_SHA,
		   "master", 0);
	sh_webhook_event_release(&ev);
	cJSON_Delete(body);
}

/* ------------------------------------------------------------------ */
/* tags */

static void
test_tag_push(void **state)
{
	static const char sha[] = "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7";
	struct parsed p;
	const struct sh_event *ev;

	(void)state;
	ev = parse_fixture(&p, "tag_push.json");
	expect_ref_event(ev, SH_EVENT_TAG_PUSH, "v1.0.0", ZEROS, sha, 1,
			 "jsmith/example");
	expect_run(ev, &module_master, SH_RUN_TRACKED, SH_TRIGGER_TAG, sha,
		   "v1.0.0", 0);
	expect_no_run(ev, &stack_master, NULL);
	expect_no_run(ev, &stack_develop, NULL);
	/* a module's project_root does not filter tags */
	expect_run(ev, &(struct sh_stack_target){.id = "m", .is_module = true,
						  .branch = "master",
						  .project_root = "modules/net"},
		   SH_RUN_TRACKED, SH_TRIGGER_TAG, sha, "v1.0.0", 0);
	parsed_release(&p);
}

/* An annotated tag: after is the tag object, checkout_sha the commit. */
static void
test_tag_push_annotated_uses_checkout_sha(void **state)
{
	static const char tag_object[] = "ffffffffffffffffffffffffffffffffffffffff";
	static const char sha[] = "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7";
	cJSON *body = fixture("tag_push.json");
	struct sh_event ev;

	(void)state;
	set(body, "after", cJSON_CreateString(tag_object));
	parse_ok(body, &ev);
	assert_string_equal(ev.after, tag_object);
	assert_string_equal(ev.checkout_sha, sha);
	expect_run(&ev, &module_master, SH_RUN_TRACKED, SH_TRIGGER_TAG, sha,
		   "v1.0.0", 0);
	sh_webhook_event_release(&ev);
	cJSON_Delete(body);
}

/* A tag name and whether it is a version (which modules run on). */
struct tag_case {
	const char *tag;
	bool version;
};

static void
test_tag_push_versions(void **state)
{
	static const struct tag_case tags[] = {
		{"v1.0.0", true}, {"1.0.0", true}, {"v2.10.3-rc.1", true},
		{"nightly", false}, {"v1.0", false}, {"release-1.0.0", false},
		{"latest", false}, {"1.0.0.0", false},
	};

	(void)state;
	for (size_t i = 0; i < COUNT(tags); i++) {
		cJSON *body = fixture("tag_push.json");
		char ref[128];
		struct sh_event ev;

		snprintf(ref, sizeof(ref), "refs/tags/%s", tags[i].tag);
		set(body, "ref", cJSON_CreateString(ref));
		parse_ok(body, &ev);
		assert_string_equal(ev.name, tags[i].tag);
		if (tags[i].version)
			expect_run(&ev, &module_master, SH_RUN_TRACKED, SH_TRIGGER_TAG,
				   "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
				   tags[i].tag, 0);
		else
			expect_no_run(&ev, &module_master, tags[i].tag);
		expect_no_run(&ev, &stack_master, NULL);
		sh_webhook_event_release(&ev);
		cJSON_Delete(body);
	}
}

static void
test_tag_push_delete(void **state)
{
	cJSON *body = fixture("tag_push_delete.json");
	struct sh_event ev;

	(void)state;
	assert_true(cJSON_IsNull(member(body, "checkout_sha")));
	parse_ignored_into(body, "v1.0.0", &ev);
	assert_int_equal(ev.kind, SH_EVENT_TAG_PUSH);
	expect_no_runs(&ev, NULL);
	cJSON_Delete(body);
}

static void
test_is_version_tag(void **state)
{
	static const struct tag_case tags[] = {
		{"1.2.3", true}, {"v1.2.3", true}, {"v0.0.0", true},
		{"v10.20.30", true}, {"1.2.3-rc1", true}, {"1.2.3-rc.1", true},
		{"1.2.3+build.5", true}, {"v1.0.0-alpha+001", true},
		{"1.2.3-x-y", true},
		{"", false}, {"v", false}, {"1", false}, {"1.2", false},
		{"v1.2", false}, {"1.2.3.4", false}, {"v1.2.x", false},
		{"x1.2.3", false}, {"release-1.2.3", false}, {"1.2.3-", false},
		{"1.2.3+", false}, {"vv1.2.3", false}, {"1..3", false},
		{"1.2.3 ", false}, {" 1.2.3", false}, {"1.2.3-rc 1", false},
		{"1.2.3-rc/1", false}, {"latest", false}, {"v.1.2.3", false},
		{"1.2.3_4", false}, {"-1.2.3", false}, {"1.-2.3", false},
	};

	(void)state;
	for (size_t i = 0; i < COUNT(tags); i++)
		if (sh_webhook_is_version_tag(tags[i].tag) != tags[i].version)
			fail_msg("\"%s\" is %sa version tag", tags[i].tag,
				 tags[i].version ? "" : "not ");
}

/* ------------------------------------------------------------------ */
/* merge requests */

static void
expect_mr(const char *file, int64_t iid, const char *sha, const char *branch,
	  int64_t project_id, const char *path, const char *action)
{
	cJSON *body = fixture(file);
	struct sh_event ev;

	parse_ok(body, &ev);
	assert_int_equal(ev.kind, SH_EVENT_MERGE_REQUEST);
	assert_string_equal(ev.object_kind, "merge_request");
	if (ev.ignored)
		fail_msg("%s was ignored: %s", file, ev.reason);
	assert_string_equal(ev.action, action);
	assert_int_equal(ev.mr_iid, iid);
	assert_string_equal(ev.last_commit, sha);
	assert_string_equal(ev.source_branch, branch);
	assert_int_equal(ev.project_id, project_id);
	assert_string_equal(ev.project_path, path);
	/* proposed for every stack and module, whatever its branch */
	EXPECT_RUNS(&ev, SH_TRIGGER_MERGE_REQUEST, sha, branch, iid,
		    {&stack_master, SH_RUN_PROPOSED}, {&stack_develop, SH_RUN_PROPOSED},
		    {&module_master, SH_RUN_PROPOSED});
	sh_webhook_event_release(&ev);
	cJSON_Delete(body);
}

static void
test_merge_request_open(void **state)
{
	(void)state;
	expect_mr("merge_request_open.json", 1,
		  "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "ms-viewport", 1,
		  "gitlabhq/gitlab-test", "open");
}

static void
test_merge_request_reopen(void **state)
{
	(void)state;
	expect_mr("merge_request_reopen.json", 1, HELLO_SHA, "feature", 4861503,
		  "gitlab-org/hello-world", "reopen");
}

static void
test_merge_request_update(void **state)
{
	(void)state;
	expect_mr("merge_request_update.json", 2,
		  "0ab96a10266b95b4b533dcfd98738015fbe70889", "next-feature", 2,
		  "test/woodpecker", "update");
}

static void
test_merge_request_update_without_oldrev(void **state)
{
	cJSON *body = fixture("merge_request_update.json");
	cJSON *attrs = member(body, "object_attributes");
	struct sh_event ev;

	(void)state;
	cJSON_DeleteItemFromObject(attrs, "oldrev");
	parse_ignored(body, NULL);
	parse_ok(body, &ev);
	expect_no_run(&ev, &stack_master, NULL);
	/* null is no oldrev either */
	cJSON_AddNullToObject(attrs, "oldrev");
	parse_ignored(body, NULL);
	sh_webhook_event_release(&ev);
	cJSON_Delete(body);
}

/* changes.<name> going from previous to current, on an update without
 * oldrev. */
static cJSON *
update_with_change(const char *name, cJSON *previous, cJSON *current)
{
	cJSON *body = fixture("merge_request_update.json");
	cJSON *change = cJSON_CreateObject();

	cJSON_DeleteItemFromObject(member(body, "object_attributes"), "oldrev");
	cJSON_AddItemToObject(change, "previous", previous);
	cJSON_AddItemToObject(change, "current", current);
	cJSON_AddItemToObject(member(body, "changes"), name, change);
	return body;
}

static void
test_merge_request_marked_ready(void **state)
{
	static const char *const names[] = {"draft", "work_in_progress"};

	(void)state;
	for (size_t i = 0; i < COUNT(names); i++) {
		cJSON *body = update_with_change(names[i], cJSON_CreateTrue(),
						 cJSON_CreateFalse());
		struct sh_event ev;

		parse_ok(body, &ev);
		if (ev.ignored)
			fail_msg("%s true -> false was ignored: %s", names[i], ev.reason);
		expect_run(&ev, &stack_master, SH_RUN_PROPOSED,
			   SH_TRIGGER_MERGE_REQUEST,
			   "0ab96a10266b95b4b533dcfd98738015fbe70889", "next-feature", 2);
		sh_webhook_event_release(&ev);
		cJSON_Delete(body);

		/* marked draft again, or still draft: no code change */
		body = update_with_change(names[i], cJSON_CreateFalse(),
					  cJSON_CreateTrue());
		parse_ignored(body, NULL);
		sh_webhook_event_release(&ev);
		cJSON_Delete(body);
		body = update_with_change(names[i], cJSON_CreateTrue(),
					  cJSON_CreateTrue());
		parse_ignored(body, NULL);
		sh_webhook_event_release(&ev);
		cJSON_Delete(body);
		/* strings are not booleans */
		body = update_with_change(names[i], cJSON_CreateString("true"),
					  cJSON_CreateString("false"));
		parse_ignored(body, NULL);
		sh_webhook_event_release(&ev);
		cJSON_Delete(body);
	}
	/* a title change only */
	{
		cJSON *body = update_with_change("title", cJSON_CreateString("Draft: x"),
						 cJSON_CreateString("x"));

		parse_ignored(body, NULL);
		cJSON_Delete(body);
	}
}

static void
test_merge_request_merge_close(void **state)
{
	static const char *const files[] = {"merge_request_merge.json",
					    "merge_request_close.json"};

	(void)state;
	for (size_t i = 0; i < COUNT(files); i++) {
		cJSON *body = fixture(files[i]);
		struct sh_event ev;

		parse_ignored_into(body, NULL, &ev);
		assert_int_equal(ev.kind, SH_EVENT_MERGE_REQUEST);
		expect_no_runs(&ev, NULL);
		/* ignored before field checks */
		cJSON_DeleteItemFromObject(member(body, "object_attributes"),
					   "last_commit");
		cJSON_DeleteItemFromObject(body, "project");
		parse_ignored(body, NULL);
		cJSON_Delete(body);
	}
}

static void
test_merge_request_from_fork(void **state)
{
	static const char *const files[] = {"merge_request_open.json",
					    "merge_request_reopen.json",
					    "merge_request_update.json"};

	(void)state;
	for (size_t i = 0; i < COUNT(files); i++) {
		cJSON *body = fixture(files[i]);
		cJSON *attrs = member(body, "object_attributes");
		struct sh_event ev;

		set(attrs, "source_project_id", cJSON_CreateNumber(99999));
		parse_ignored(body, "fork");
		parse_ok(body, &ev);
		expect_no_run(&ev, &stack_master, "fork");
		/* a fork's commit is not checked before it is ignored */
		cJSON_DeleteItemFromObject(attrs, "last_commit");
		parse_ignored(body, "fork");
		sh_webhook_event_release(&ev);
		cJSON_Delete(body);
	}
}

static void
test_note_is_other_kind(void **state)
{
	cJSON *body = fixture("note_merge_request.json");
	struct sh_event ev;

	(void)state;
	parse_ignored_into(body, "note", &ev);
	assert_int_equal(ev.kind, SH_EVENT_OTHER);
	assert_string_equal(ev.object_kind, "note");
	expect_no_runs(&ev, "note");
	cJSON_Delete(body);
}

static void
test_other_kinds_ignored(void **state)
{
	static const char *const kinds[] = {"pipeline", "build", "issue",
					    "wiki_page", "deployment", "PUSH", ""};

	(void)state;
	for (size_t i = 0; i < COUNT(kinds); i++) {
		cJSON *body = cJSON_CreateObject();
		struct sh_event ev;

		cJSON_AddStringToObject(body, "object_kind", kinds[i]);
		parse_ignored_into(body, NULL, &ev);
		assert_int_equal(ev.kind, SH_EVENT_OTHER);
		expect_no_runs(&ev, NULL);
		cJSON_Delete(body);
	}
}

/* ------------------------------------------------------------------ */
/* hostile deliveries */

static void
test_object_kind_missing_or_wrong(void **state)
{
	cJSON *body;

	(void)state;
	mutant_fails("push.json", "object_kind", NULL, SH_E_MISSING_FIELD);
	mutant_fails("push.json", "object_kind", cJSON_CreateNull(),
		     SH_E_MISSING_FIELD);
	mutant_fails("push.json", "object_kind", cJSON_CreateNumber(1),
		     SH_E_INVALID_FIELD);
	mutant_fails("push.json", "object_kind", cJSON_CreateArray(),
		     SH_E_INVALID_FIELD);

	body = cJSON_CreateObject();
	parse_fails(body, SH_E_MISSING_FIELD, "object_kind");
	cJSON_Delete(body);
}

/* A long unknown kind is cut to fit, never overflows. */
static void
test_long_object_kind(void **state)
{
	char kind[4096];
	cJSON *body = cJSON_CreateObject();
	struct sh_event ev;

	(void)state;
	memset(kind, 'k', sizeof(kind) - 1);
	kind[sizeof(kind) - 1] = '\0';
	cJSON_AddStringToObject(body, "object_kind", kind);
	parse_ok(body, &ev);
	assert_true(ev.ignored);
	assert_true(strlen(ev.object_kind) < sizeof(ev.object_kind));
	assert_true(strlen(ev.reason) < sizeof(ev.reason));
	sh_webhook_event_release(&ev);
	cJSON_Delete(body);
}

static void
test_push_field_checks(void **state)
{
	static const struct field_case cases[] = {
		{"after", NULL, SH_E_MISSING_FIELD},
		{"after", "#null", SH_E_MISSING_FIELD},
		{"after", "#42", SH_E_INVALID_FIELD},
		{"after", "da1560886d4f094c3e6c9ef40349f7d38b5d27d", SH_E_INVALID_FIELD},
		{"after", "za1560886d4f094c3e6c9ef40349f7d38b5d27d7", SH_E_INVALID_FIELD},
		{"after", "", SH_E_INVALID_FIELD},
		{"checkout_sha", NULL, SH_E_MISSING_FIELD},
		{"checkout_sha", "#null", SH_E_MISSING_FIELD},
		{"checkout_sha", "#42", SH_E_INVALID_FIELD},
		{"checkout_sha", "HEAD", SH_E_INVALID_FIELD},
		{"checkout_sha", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7 ",
		 SH_E_INVALID_FIELD},
		{"before", "#42", SH_E_INVALID_FIELD},
		{"before", "1234", SH_E_INVALID_FIELD},
		{"ref", NULL, SH_E_MISSING_FIELD},
		{"ref", "#null", SH_E_MISSING_FIELD},
		{"ref", "#42", SH_E_INVALID_FIELD},
		{"ref", "refs/heads/a..b", SH_E_INVALID_FIELD},
		{"ref", "refs/heads/", SH_E_INVALID_FIELD},
		{"ref", "refs/tags/x", SH_E_INVALID_FIELD},
		{"ref", "master", SH_E_INVALID_FIELD},
		{"ref", "refs/heads/a b", SH_E_INVALID_FIELD},
		{"ref", "refs/heads/x.lock", SH_E_INVALID_FIELD},
		{"ref", "refs/heads//x", SH_E_INVALID_FIELD},
		{"ref", "refs/remotes/origin/x", SH_E_INVALID_FIELD},
		{"ref", "", SH_E_INVALID_FIELD},
	};

	(void)state;
	mutants_fail("push.json", cases, COUNT(cases));
}

static void
test_push_before_optional(void **state)
{
	cJSON *body = fixture("push.json");
	struct sh_event ev;

	(void)state;
	cJSON_DeleteItemFromObject(body, "before");
	parse_ok(body, &ev);
	assert_string_equal(ev.before, "");
	set(body, "before", cJSON_CreateNull());
	sh_webhook_event_release(&ev);
	parse_ok(body, &ev);
	assert_string_equal(ev.before, "");
	sh_webhook_event_release(&ev);
	cJSON_Delete(body);
}

static void
test_ref_length(void **state)
{
	char ref[SH_GIT_REF_MAX + 64];
	cJSON *body;
	struct sh_event ev;

	(void)state;
	/* a branch name of SH_GIT_REF_MAX characters fits in the event */
	snprintf(ref, sizeof(ref), "refs/heads/");
	memset(ref + 11, 'b', SH_GIT_REF_MAX);
	ref[11 + SH_GIT_REF_MAX] = '\0';
	body = fixture("push.json");
	set(body, "ref", cJSON_CreateString(ref));
	parse_ok(body, &ev);
	assert_string_equal(ev.ref, ref);
	assert_int_equal(strlen(ev.name), SH_GIT_REF_MAX);
	sh_webhook_event_release(&ev);
	cJSON_Delete(body);
	/* one more is not a sane ref */
	ref[11 + SH_GIT_REF_MAX] = 'b';
	ref[12 + SH_GIT_REF_MAX] = '\0';
	mutant_fails("push.json", "ref", cJSON_CreateString(ref), SH_E_INVALID_FIELD);

	/* the same for a tag */
	snprintf(ref, sizeof(ref), "refs/tags/");
	memset(ref + 10, 't', SH_GIT_REF_MAX + 1);
	ref[11 + SH_GIT_REF_MAX] = '\0';
	mutant_fails("tag_push.json", "ref", cJSON_CreateString(ref),
		     SH_E_INVALID_FIELD);
}

static void
test_tag_push_ref_checks(void **state)
{
	static const char *const refs[] = {"refs/heads/v1.0.0", "v1.0.0",
					   "refs/tags/", "refs/tags/v1..0"};

	(void)state;
	for (size_t i = 0; i < COUNT(refs); i++)
		mutant_fails("tag_push.json", "ref", cJSON_CreateString(refs[i]),
			     SH_E_INVALID_FIELD);
}

static void
test_project_checks(void **state)
{
	static const char path[] = "project.path_with_namespace";
	static const char *const bad_paths[] = {
		"diaspora", "", "/diaspora", "mike/", "mike//diaspora",
		"mike/../diaspora", "mike/dia spora", "mike/diaspora\n",
	};
	char long_path[SH_PROJECT_PATH_MAX + 64];

	(void)state;
	for (size_t i = 0; i < COUNT(bad_paths); i++)
		mutant_fails("push.json", path, cJSON_CreateString(bad_paths[i]),
			     SH_E_INVALID_FIELD);
	/* too long, though every segment is fine */
	memset(long_path, 'p', sizeof(long_path) - 1);
	for (size_t i = 100; i < sizeof(long_path) - 1; i += 101)
		long_path[i] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	mutant_fails("push.json", path, cJSON_CreateString(long_path),
		     SH_E_INVALID_FIELD);

	mutant_fails("push.json", path, NULL, SH_E_MISSING_FIELD);
	mutant_fails("push.json", path, cJSON_CreateNumber(3), SH_E_INVALID_FIELD);
	mutant_fails("push.json", "project.id", cJSON_CreateString("15"),
		     SH_E_INVALID_FIELD);
	mutant_fails("push.json", "project", NULL, SH_E_MISSING_FIELD);
	mutant_fails("push.json", "project", cJSON_CreateString("mike/diaspora"),
		     SH_E_INVALID_FIELD);
}

/* project.id, or the older top-level project_id */
static void
test_project_id_fallback(void **state)
{
	cJSON *body = fixture("push.json");
	struct sh_event ev;

	(void)state;
	cJSON_DeleteItemFromObject(member(body, "project"), "id");
	parse_ok(body, &ev);
	assert_int_equal(ev.project_id, 15);
	set(body, "project_id", cJSON_CreateNumber(77));
	sh_webhook_event_release(&ev);
	parse_ok(body, &ev);
	assert_int_equal(ev.project_id, 77);
	cJSON_DeleteItemFromObject(body, "project_id");
	parse_fails(body, SH_E_MISSING_FIELD, "project_id");
	sh_webhook_event_release(&ev);
	cJSON_Delete(body);
}

static void
test_huge_numbers(void **state)
{
	static const char *const numbers[] = {
		"1e300", "1e400", "-1", "0", "1.5", "9223372036854775808",
		"18446744073709551616", "9007199254740993", "-9223372036854775809",
	};

	(void)state;
	for (size_t i = 0; i < COUNT(numbers); i++) {
		cJSON *n = cJSON_Parse(numbers[i]);

		assert_non_null(n);
		mutant_fails("push.json", "project.id", cJSON_Duplicate(n, true),
			     SH_E_INVALID_FIELD);
		mutant_fails("merge_request_open.json", "object_attributes.iid",
			     cJSON_Duplicate(n, true), SH_E_INVALID_FIELD);
		cJSON_Delete(n);
	}
	/* the largest id a JSON number carries exactly is fine */
	{
		cJSON *body = fixture("push.json");
		struct sh_event ev;

		set(member(body, "project"), "id", cJSON_CreateNumber(9007199254740991.0));
		parse_ok(body, &ev);
		assert_true(ev.project_id == INT64_C(9007199254740991));
		sh_webhook_event_release(&ev);
		cJSON_Delete(body);
	}
}

static void
test_merge_request_field_checks(void **state)
{
	static const struct field_case cases[] = {
		{"object_attributes.last_commit", NULL, SH_E_MISSING_FIELD},
		{"object_attributes.last_commit", "7", SH_E_INVALID_FIELD},
		{"object_attributes.iid", NULL, SH_E_MISSING_FIELD},
		{"object_attributes.iid", "7", SH_E_INVALID_FIELD},
		{"object_attributes.source_branch", NULL, SH_E_MISSING_FIELD},
		{"object_attributes.source_branch", "#7", SH_E_INVALID_FIELD},
		{"object_attributes.source_branch", "a..b", SH_E_INVALID_FIELD},
		{"object_attributes.source_branch", "", SH_E_INVALID_FIELD},
		{"object_attributes.source_project_id", NULL, SH_E_MISSING_FIELD},
		{"object_attributes.target_project_id", "7", SH_E_INVALID_FIELD},
		{"object_attributes.action", NULL, SH_E_MISSING_FIELD},
		{"object_attributes.action", "#7", SH_E_INVALID_FIELD},
	};

	(void)state;
	mutants_fail("merge_request_open.json", cases, COUNT(cases));
}

static void
test_merge_request_last_commit_checks(void **state)
{
	static const struct field_case cases[] = {
		{"object_attributes.last_commit.id", "#1", SH_E_INVALID_FIELD},
		{"object_attributes.last_commit.id", "not-a-sha", SH_E_INVALID_FIELD},
		{"object_attributes.last_commit.id", "#null", SH_E_MISSING_FIELD},
		{"object_attributes.last_commit.id", NULL, SH_E_MISSING_FIELD},
		{"object_attributes", "#[]", SH_E_INVALID_FIELD},
		{"object_attributes", NULL, SH_E_MISSING_FIELD},
		{"project.id", "#true", SH_E_INVALID_FIELD},
	};

	(void)state;
	mutants_fail("merge_request_open.json", cases, COUNT(cases));
}

/* Nothing a delivery holds makes the parser write past its event: long
 * strings everywhere an event copies one. */
static void
test_long_strings_stay_bounded(void **state)
{
	static char big[70000];
	cJSON *body;
	struct sh_event ev;
	struct sh_err err;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';

	body = fixture("merge_request_open.json");
	set(member(body, "object_attributes"), "action", cJSON_CreateString(big));
	parse_ok(body, &ev);
	assert_true(ev.ignored);
	assert_true(strlen(ev.action) < sizeof(ev.action));
	assert_true(strlen(ev.reason) < sizeof(ev.reason));
	sh_webhook_event_release(&ev);
	cJSON_Delete(body);

	mutant_fails("merge_request_open.json", "object_attributes.source_branch",
		     cJSON_CreateString(big), SH_E_INVALID_FIELD);

	body = fixture("push_branch_delete.json");
	{
		char ref[sizeof(big) + 16];

		snprintf(ref, sizeof(ref), "refs/heads/%s", big);
		set(body, "ref", cJSON_CreateString(ref));
	}
	sh_err_clear(&err);
	assert_int_equal(sh_webhook_parse(body, &ev, &err), 0);
	assert_true(ev.ignored);
	assert_true(strlen(ev.reason) < sizeof(ev.reason));
	sh_webhook_event_release(&ev);
	cJSON_Delete(body);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(sh_run_kind_name(SH_RUN_TRACKED), "tracked");
	assert_string_equal(sh_run_kind_name(SH_RUN_PROPOSED), "proposed");
	assert_string_equal(sh_trigger_name(SH_TRIGGER_PUSH), "push");
	assert_string_equal(sh_trigger_name(SH_TRIGGER_TAG), "tag");
	assert_string_equal(sh_trigger_name(SH_TRIGGER_MERGE_REQUEST),
			    "merge_request");
	assert_string_equal(sh_trigger_name(SH_TRIGGER_MANUAL), "manual");
}

/* Every fixture parses without an error: none of them is a 400. */
static void
test_every_fixture_parses(void **state)
{
	static const struct {
		const char *file;
		enum sh_event_kind kind;
		bool ignored;
	} all[] = {
		{"merge_request_close.json", SH_EVENT_MERGE_REQUEST, true},
		{"merge_request_merge.json", SH_EVENT_MERGE_REQUEST, true},
		{"merge_request_open.json", SH_EVENT_MERGE_REQUEST, false},
		{"merge_request_reopen.json", SH_EVENT_MERGE_REQUEST, false},
		{"merge_request_update.json", SH_EVENT_MERGE_REQUEST, false},
		{"note_merge_request.json", SH_EVENT_OTHER, true},
		{"push.json", SH_EVENT_PUSH, false},
		{"push_branch_create.json", SH_EVENT_PUSH, false},
		{"push_branch_delete.json", SH_EVENT_PUSH, true},
		{"push_merge_commit.json", SH_EVENT_PUSH, false},
		{"push_subgroup.json", SH_EVENT_PUSH, false},
		{"tag_push.json", SH_EVENT_TAG_PUSH, false},
		{"tag_push_delete.json", SH_EVENT_TAG_PUSH, true},
	};

	(void)state;
	for (size_t i = 0; i < COUNT(all); i++) {
		cJSON *body = fixture(all[i].file);
		struct sh_event ev;

		parse_ok(body, &ev);
		if (ev.kind != all[i].kind || ev.ignored != all[i].ignored)
			fail_msg("%s: kind %d ignored %d (%s), expected kind %d ignored %d",
				 all[i].file, ev.kind, ev.ignored, ev.reason, all[i].kind,
				 all[i].ignored);
		sh_webhook_event_release(&ev);
		cJSON_Delete(body);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_fixture_parses),
		cmocka_unit_test(test_push),
		cmocka_unit_test(test_push_truncated_ignores_project_root),
		cmocka_unit_test(test_push_complete_project_root),
		cmocka_unit_test(test_push_complete_added_modified_removed),
		cmocka_unit_test(test_push_complete_outside_root_other_branch),
		cmocka_unit_test(test_push_branch_create),
		cmocka_unit_test(test_push_branch_delete),
		cmocka_unit_test(test_push_merge_commit),
		cmocka_unit_test(test_push_subgroup),
		cmocka_unit_test(test_push_sha_case),
		cmocka_unit_test(test_tag_push),
		cmocka_unit_test(test_tag_push_annotated_uses_checkout_sha),
		cmocka_unit_test(test_tag_push_versions),
		cmocka_unit_test(test_tag_push_delete),
		cmocka_unit_test(test_is_version_tag),
		cmocka_unit_test(test_merge_request_open),
		cmocka_unit_test(test_merge_request_reopen),
		cmocka_unit_test(test_merge_request_update),
		cmocka_unit_test(test_merge_request_update_without_oldrev),
		cmocka_unit_test(test_merge_request_marked_ready),
		cmocka_unit_test(test_merge_request_merge_close),
		cmocka_unit_test(test_merge_request_from_fork),
		cmocka_unit_test(test_note_is_other_kind),
		cmocka_unit_test(test_other_kinds_ignored),
		cmocka_unit_test(test_object_kind_missing_or_wrong),
		cmocka_unit_test(test_long_object_kind),
		cmocka_unit_test(test_push_field_checks),
		cmocka_unit_test(test_push_before_optional),
		cmocka_unit_test(test_ref_length),
		cmocka_unit_test(test_tag_push_ref_checks),
		cmocka_unit_test(test_project_checks),
		cmocka_unit_test(test_project_id_fallback),
		cmocka_unit_test(test_huge_numbers),
		cmocka_unit_test(test_merge_request_field_checks),
		cmocka_unit_test(test_merge_request_last_commit_checks),
		cmocka_unit_test(test_long_strings_stay_bounded),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
