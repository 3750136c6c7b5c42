#include "config.h"

#include <ctype.h>
#include <string.h>

#include "stackhook/git.h"

bool
sh_git_sha_valid(const char *sha)
{
	size_t n = 0;

	for (; sha[n] != '\0'; n++)
		if (!isxdigit((unsigned char)sha[n]))
			return false;
	return n == 40;
}

bool
sh_git_ref_name_valid(const char *name)
{
	size_t len = strlen(name);
	const char *seg = name;

	if (len == 0 || len > SH_GIT_REF_MAX || name[0] == '/' ||
	    name[len - 1] == '/' || name[len - 1] == '.' || strstr(name, "..") ||
	    strstr(name, "@{") || strstr(name, "//") || strcmp(name, "@") == 0)
		return false;
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f || strchr(" ~^:?*[\\", c) != NULL)
			return false;
		if (c == '/' || p[1] == '\0') {
			size_t seg_len = (size_t)(p - seg) + (c == '/' ? 0 : 1);

			/* No segment starts with '.' or ends with ".lock". */
			if (seg[0] == '.' ||
			    (seg_len >= 5 && strncmp(seg + seg_len - 5, ".lock", 5) == 0))
				return false;
			seg = p + 1;
		}
	}
	return true;
}

static bool
segment_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.';
}

bool
sh_git_project_valid(const char *path)
{
	size_t n = 0;

	for (; path[n] != '\0'; n++)
		if (!segment_char((unsigned char)path[n]))
			return false;
	return n > 0 && n <= 255 && strcmp(path, ".") != 0 && strcmp(path, "..") != 0;
}

bool
sh_git_namespace_valid(const char *path)
{
	char seg[256];
	size_t n = 0;

	if (strlen(path) > SH_GIT_PATH_MAX)
		return false;
	for (const char *p = path;; p++) {
		if (*p == '/' || *p == '\0') {
			seg[n] = '\0';
			if (!sh_git_project_valid(seg))
				return false;
			if (*p == '\0')
				return true;
			n = 0;
			continue;
		}
		if (n + 1 >= sizeof(seg))
			return false;
		seg[n++] = *p;
	}
}

bool
sh_git_subdir_valid(const char *path)
{
	const char *seg = path;

	if (path[0] == '\0')
		return true;
	if (path[0] == '/' || strlen(path) > SH_GIT_PATH_MAX)
		return false;
	for (const char *p = path;; p++) {
		if (*p != '\0' && ((unsigned char)*p < 0x20 || *p == 0x7f))
			return false;
		if (*p == '/' || *p == '\0') {
			size_t len = (size_t)(p - seg);

			if ((len == 1 && seg[0] == '.') ||
			    (len == 2 && seg[0] == '.' && seg[1] == '.') ||
			    (len == 0 && *p == '/'))
				return false;
			if (*p == '\0')
				return true;
			seg = p + 1;
		}
	}
}
