# The Debian package (debian/, docs/packaging.md).
#   make deb        build/deb/lpsentinel_VERSION_ARCH.deb, lintian-clean
#   make deb-test   the package installed, upgraded and purged in a clean
#                   Debian 12 chroot (tests/deb/deb-test.sh)
.PHONY: deb deb-test

deb:
	./tests/deb/build-deb.sh

deb-test: deb
	./tests/deb/deb-test.sh
