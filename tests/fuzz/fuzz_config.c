/* libFuzzer target: the config file parser (through a memfd, since the
 * parser reads a file by its path). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stackhook/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sh_config *cfg;
	struct sh_err err;
	char path[64];
	int fd = memfd_create("config", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (sh_config_load(path, &cfg, &err) == 0)
			sh_config_free(cfg);
	}
	close(fd);
	return 0;
}
