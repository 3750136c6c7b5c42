/*
 * git.h - what git and GitLab accept as names: commit ids, ref names,
 * project paths.  Pure functions, used to check input before it is stored.
 */
#ifndef STACKHOOK_GIT_H
#define STACKHOOK_GIT_H

#include <stdbool.h>

#define SH_GIT_REF_MAX 255
#define SH_GIT_PATH_MAX 1024

/* 40 hexadecimal digits (SHA-1 object id). */
bool sh_git_sha_valid(const char *sha);

/* A branch or tag name git's check-ref-format accepts, at most
 * SH_GIT_REF_MAX bytes ("main", "feature/x"; not "a..b", "x.lock", ...). */
bool sh_git_ref_name_valid(const char *name);

/* A GitLab namespace full path ("group", "group/sub/sub2"): segments of
 * letters, digits, '_', '-', '.', joined by single '/'. */
bool sh_git_namespace_valid(const char *path);

/* One path segment, as a project's path: "project-a". */
bool sh_git_project_valid(const char *path);

/* A relative directory inside a repository ("", "infra/vpc"): no leading
 * '/', no "." or ".." segments, no control characters. */
bool sh_git_subdir_valid(const char *path);

#endif
