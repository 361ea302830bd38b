#!/usr/bin/env bash
# Make the source tree usable for out-of-tree builds (../configure), which
# quickstart.sh and .ci/run both use.  configure refuses to run in a build
# directory while the source tree itself is configured ("source directory
# already configured"), as "./configure" in the top directory leaves it.
# Such an in-place build is removed with "make distclean", which deletes only
# what configure and make generated; sources and anything else stay.
set -eu
cd "$(dirname "$0")/.."
[ -f config.status ] || exit 0
echo "the source tree is configured in place (./configure was run in $PWD);"
echo "builds here are out of tree, so that one is cleaned first: make distclean"
if [ -f Makefile ]; then
    if ! make distclean >distclean.log 2>&1; then
        tail -40 distclean.log
        echo "make distclean failed in $PWD (output above); run it there, then try again" >&2
        exit 1
    fi
    rm -f distclean.log
fi
# distclean removes config.status; without a Makefile it is the only marker
rm -f config.status
