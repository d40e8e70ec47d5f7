/*
 * SPDX-License-Identifier: ISC
 * reloader.c - configuration reloads on a thread of their own, coalesced.
 */
#include <string.h>

#include "reloader.h"

static void *worker(void *arg)
{
	struct reloader *rl = arg;
	unsigned long n;

	pthread_mutex_lock(&rl->lock);
	for (;;) {
		while (!rl->pending && !rl->stopping)
			pthread_cond_wait(&rl->cond, &rl->lock);
		if (rl->stopping)
			break;
		rl->pending = false;
		n = rl->requests;
		rl->requests = 0;
		pthread_mutex_unlock(&rl->lock);
		rl->run(rl->arg, n);
		pthread_mutex_lock(&rl->lock);
	}
	pthread_mutex_unlock(&rl->lock);
	return NULL;
}

int reloader_start(struct reloader *rl,
		   int (*spawn)(pthread_t *, void *(*)(void *), void *),
		   void (*run)(void *, unsigned long), void *arg)
{
	int rc;

	memset(rl, 0, sizeof(*rl));
	if ((rc = pthread_mutex_init(&rl->lock, NULL)) != 0)
		return rc;
	if ((rc = pthread_cond_init(&rl->cond, NULL)) != 0)
		return rc;
	rl->run = run;
	rl->arg = arg;
	if ((rc = spawn(&rl->tid, worker, rl)) != 0)
		return rc;
	rl->started = true;
	return 0;
}

void reloader_request(struct reloader *rl)
{
	pthread_mutex_lock(&rl->lock);
	rl->pending = true;
	rl->requests++;
	pthread_cond_signal(&rl->cond);
	pthread_mutex_unlock(&rl->lock);
}

void reloader_stop(struct reloader *rl, bool wait)
{
	if (!rl->started)
		return;
	pthread_mutex_lock(&rl->lock);
	rl->stopping = true;
	pthread_cond_signal(&rl->cond);
	pthread_mutex_unlock(&rl->lock);
	if (wait)
		pthread_join(rl->tid, NULL);
	else
		pthread_detach(rl->tid);
	rl->started = false;
}
