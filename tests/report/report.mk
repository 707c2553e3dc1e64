# The HTML report in headless Chromium (tests/report/check-report.py): the
# real verdicts of tests/report/data rendered by this lpsentinel, each page
# loaded at 1280 px; screenshots in build/report/. No VM needed.
.PHONY: report-test

report-test: lpsentinel
	python3 tests/report/check-report.py ./lpsentinel
