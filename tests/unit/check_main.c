/*
 * The unit-test runner: every suite in one binary, run in Check's default
 * fork mode so a crash or a sanitizer abort fails one test, not the run,
 * and so tests may change process state (TZ, fd 0, the input-error flag).
 * Exit status: 0 when every test passed, 1 otherwise.
 */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *runner = srunner_create(lexer_suite());
	srunner_add_suite(runner, fields_suite());
	srunner_add_suite(runner, timestamp_suite());
	srunner_add_suite(runner, input_suite());
	srunner_add_suite(runner, golden_suite());
	srunner_add_suite(runner, txn_suite());
	srunner_add_suite(runner, report_suite());
	srunner_add_suite(runner, drilldown_suite());
	srunner_add_suite(runner, when_suite());
	srunner_add_suite(runner, rules_suite());
	srunner_add_suite(runner, export_suite());
	srunner_add_suite(runner, state_suite());
	srunner_add_suite(runner, mailfmt_suite());
	srunner_add_suite(runner, prefilter_suite());
	srunner_add_suite(runner, litfilter_suite());
	srunner_add_suite(runner, memo_suite());
	srunner_add_suite(runner, strbuf_suite());
	srunner_add_suite(runner, linepipe_suite());
	srunner_add_suite(runner, worker_suite());
	/* CK_NORMAL prints the summary and every failure with file:line. */
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
