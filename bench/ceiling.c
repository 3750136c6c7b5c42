/*
 * bench/ceiling.c: the ceiling of SPEC 8 -- the least a libfcgi responder
 * can do with a webhook: read the body, answer 202.  THREADS threads (the
 * first argument, default 1) each loop on FCGX_Accept_r, like stackhook's.
 *
 *   cc -O2 -o ceiling bench/ceiling.c -lfcgi -lpthread
 *   spawn-fcgi -s SOCKET -F PROCESSES -- ./ceiling THREADS
 */
#include <fcgiapp.h>
#include <pthread.h>
#include <stdlib.h>

static void *
serve(void *arg)
{
	static const char answer[] = "Status: 202 Accepted\r\n"
				     "Content-Type: application/json\r\n\r\n"
				     "{\"status\":\"accepted\"}\n";
	char body[65536];
	FCGX_Request r;

	(void)arg;
	FCGX_InitRequest(&r, 0, 0);
	while (FCGX_Accept_r(&r) >= 0) {
		while (FCGX_GetStr(body, sizeof(body), r.in) > 0)
			;
		FCGX_PutStr(answer, sizeof(answer) - 1, r.out);
		FCGX_Finish_r(&r);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 1;
	pthread_t t;

	if (FCGX_Init() != 0)
		return 1;
	for (int i = 1; i < threads; i++)
		if (pthread_create(&t, NULL, serve, NULL) != 0)
			return 1;
	serve(NULL);
	return 0;
}
