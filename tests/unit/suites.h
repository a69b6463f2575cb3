/*
 * The Check suites of the unit-test runner, one per module under test.
 * check_main.c runs them all; each check_*.c file exports one.
 */
#ifndef EXIMEXPLAIN_TEST_SUITES_H
#define EXIMEXPLAIN_TEST_SUITES_H

#include <check.h>

Suite *lexer_suite(void);
Suite *fields_suite(void);
Suite *input_suite(void);
Suite *timestamp_suite(void);
Suite *golden_suite(void);
Suite *txn_suite(void);
Suite *report_suite(void);
Suite *drilldown_suite(void);
Suite *when_suite(void);
Suite *rules_suite(void);
Suite *export_suite(void);
Suite *state_suite(void);
Suite *mailfmt_suite(void);
Suite *prefilter_suite(void);
Suite *litfilter_suite(void);
Suite *memo_suite(void);
Suite *strbuf_suite(void);
Suite *linepipe_suite(void);
Suite *worker_suite(void);

#endif
