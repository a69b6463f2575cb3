/*
 * worker: one helper thread that runs one job at a time for its owner,
 * who goes on with work of its own meanwhile and then waits for the job
 * to end. The input maps in the pages of each window on one while its
 * reader reads (input.h, input_populate_ahead).
 *
 * Everything a job reads or writes is handed over by worker_run and
 * back by worker_wait (each takes the worker's lock), so a job needs no
 * synchronisation of its own as long as its owner leaves the job's data
 * alone in between.
 *
 * Ownership: worker_stop joins the thread and frees the worker; a job's
 * argument stays its owner's.
 */
#ifndef EXIMEXPLAIN_WORKER_H
#define EXIMEXPLAIN_WORKER_H

struct worker;

/* NULL when no thread could be made: the owner then does the work itself. */
struct worker *worker_start(void);

/* Run job(arg) on the worker's thread. The worker must be idle: started
 * or waited for since its last job. */
void worker_run(struct worker *worker, void (*job)(void *arg), void *arg);

/* Until the job handed to worker_run has returned. */
void worker_wait(struct worker *worker);

/* Join and free; waits for a job still running. NULL is a no-op. */
void worker_stop(struct worker *worker);

#endif
