#include "config.h"

#include "stackhook/audit.h"
#include "stackhook/timeutil.h"

int
sh_audit_record(struct sh_db *db, const struct sh_audit_entry *e,
		struct sh_err *err)
{
	static const char sql[] =
		"INSERT INTO audit (at, actor, address, action, object_type, "
		"object_id, space, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
	struct sh_stmt *st;
	int rc;

	if (sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	sh_stmt_bind_int(st, 1, sh_time_now());
	sh_stmt_bind_text(st, 2, e->actor);
	sh_stmt_bind_text(st, 3, e->address);
	sh_stmt_bind_text(st, 4, e->action);
	sh_stmt_bind_text(st, 5, e->object_type);
	sh_stmt_bind_text(st, 6, e->object_id);
	sh_stmt_bind_text(st, 7, e->space);
	sh_stmt_bind_text(st, 8, e->detail);
	rc = sh_stmt_step(st, err);
	sh_stmt_release(st);
	return rc < 0 ? -1 : 0;
}

int
sh_audit_actor(struct sh_db *db, const struct sh_actor *actor,
	       const char *action, const char *object_type, const char *object_id,
	       const char *space, const char *detail, struct sh_err *err)
{
	struct sh_audit_entry e = {
		.actor = actor->name, .address = actor->address, .action = action,
		.object_type = object_type, .object_id = object_id, .space = space,
		.detail = detail,
	};

	return sh_audit_record(db, &e, err);
}
