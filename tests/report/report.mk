# The HTML report in headless Chromium (tests/report/check-report.py): the
# real verdicts of tests/report/data rendered by this lpsentinel, each page
# loaded at 1280 px; screenshots in build/report/screens/. No VM needed. Debian's
# python3 (its python3-selenium and python3-pil), whatever python3 is first
# in PATH.
.PHONY: report-test

REPORT_PY ?= /usr/bin/python3

report-test: lpsentinel
	$(REPORT_PY) tests/report/check-report.py ./lpsentinel

# make test runs it with the unit tests.
unit-test: report-test
