#!/bin/sh
# store_closed.sh - the case database is the store's (issue 13): outside analyzer/store/, no
# file takes its SQLite connection (pt_db_handle) or calls SQLite, except those listed in
# tools/store_open.allow (still to be moved). Fails on any other, and on a listed file that
# no longer does (remove its line then).
allow=tools/store_open.allow
users=$(grep -rlE 'pt_db_handle|sqlite3_[a-z_]+\(' analyzer --include='*.c' --include='*.h' |
        grep -v '^analyzer/store/' | sort)
listed=$(grep -v '^#' "$allow" | sed '/^$/d' | sort)
bad=0
for f in $users; do
    if ! echo "$listed" | grep -qxF "$f"; then
        echo "store_closed: $f uses SQLite or pt_db_handle outside analyzer/store/"; bad=1
    fi
done
for f in $listed; do
    if ! echo "$users" | grep -qxF "$f"; then
        echo "store_closed: $f no longer uses SQLite: remove it from $allow"; bad=1
    fi
done
exit $bad
