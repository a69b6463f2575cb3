/*
 * worker tests: a job runs on the worker's own thread while the owner
 * goes on, what it wrote is the owner's to read after worker_wait, jobs
 * run one after another on one thread, and worker_stop lets a job still
 * running end before it joins.
 */
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "suites.h"
#include "worker.h"

struct job_record {
	pthread_t ran_on;
	unsigned runs;
	bool slept;
};

static void note_thread(void *arg)
{
	struct job_record *r = arg;
	r->ran_on = pthread_self();
	r->runs++;
}

static void sleep_then_note(void *arg)
{
	struct job_record *r = arg;
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	r->slept = true;
}

START_TEST(test_job_runs_on_the_worker_thread)
{
	struct worker *w = worker_start();
	ck_assert_ptr_nonnull(w);
	struct job_record first = { 0 }, again = { 0 };
	worker_run(w, note_thread, &first);
	worker_wait(w);
	ck_assert_uint_eq(first.runs, 1);
	ck_assert(!pthread_equal(first.ran_on, pthread_self()));
	/* the next job runs on the same thread: one thread, reused */
	worker_run(w, note_thread, &again);
	worker_wait(w);
	ck_assert(pthread_equal(again.ran_on, first.ran_on));
	worker_stop(w);
}
END_TEST

START_TEST(test_jobs_one_after_another)
{
	struct worker *w = worker_start();
	ck_assert_ptr_nonnull(w);
	struct job_record r = { 0 };
	for (unsigned i = 0; i < 1000; i++) {
		worker_run(w, note_thread, &r);
		worker_wait(w);
		ck_assert_uint_eq(r.runs, i + 1); /* written by the job, read here */
	}
	worker_wait(w); /* idle: returns at once */
	worker_stop(w);
}
END_TEST

START_TEST(test_stop_lets_a_running_job_end)
{
	struct worker *w = worker_start();
	ck_assert_ptr_nonnull(w);
	struct job_record r = { 0 };
	worker_run(w, sleep_then_note, &r);
	worker_stop(w);
	ck_assert(r.slept);
	worker_stop(NULL);
}
END_TEST

Suite *worker_suite(void)
{
	Suite *s = suite_create("worker");
	TCase *jobs = tcase_create("jobs");
	tcase_add_test(jobs, test_job_runs_on_the_worker_thread);
	tcase_add_test(jobs, test_jobs_one_after_another);
	tcase_add_test(jobs, test_stop_lets_a_running_job_end);
	suite_add_tcase(s, jobs);
	return s;
}
