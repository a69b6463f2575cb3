/*
 * worker: a thread, a lock and a condition variable. A job is handed
 * over in `job`, and its end told by clearing it; stopping is a flag the
 * thread reads between jobs. The lock orders each hand-over, so what the
 * owner wrote before worker_run is what the job reads, and what the job
 * wrote is what the owner reads after worker_wait.
 */
#include "worker.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "msg.h"
#include "xalloc.h"

struct worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a job was handed over or ended; stopping */
	void (*job)(void *arg); /* NULL: idle */
	void *arg;
	bool stopping;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->job == NULL && !w->stopping)
			pthread_cond_wait(&w->changed, &w->lock);
		if (w->job == NULL) /* stopping, and no job left */
			break;
		void (*job)(void *) = w->job;
		void *job_arg = w->arg;
		pthread_mutex_unlock(&w->lock);
		job(job_arg);
		pthread_mutex_lock(&w->lock);
		w->job = NULL;
		pthread_cond_broadcast(&w->changed);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct worker *worker_start(void)
{
	struct worker *w = xcalloc(1, sizeof *w);
	if (pthread_mutex_init(&w->lock, NULL) != 0) {
		free(w);
		return NULL;
	}
	if (pthread_cond_init(&w->changed, NULL) != 0) {
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	if (pthread_create(&w->thread, NULL, work, w) != 0) {
		pthread_cond_destroy(&w->changed);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	return w;
}

void worker_run(struct worker *w, void (*job)(void *arg), void *arg)
{
	pthread_mutex_lock(&w->lock);
	if (w->job != NULL)
		msg_fatal("internal error: a job handed to a worker still busy");
	w->job = job;
	w->arg = arg;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
}

void worker_wait(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	while (w->job != NULL)
		pthread_cond_wait(&w->changed, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

void worker_stop(struct worker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->changed);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
