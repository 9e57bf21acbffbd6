#!/usr/bin/env bash
# install.sh - `make install` and `make uninstall`.
#
#   tools/install.sh install   DESTDIR PREFIX SRC:DEST:MODE...
#   tools/install.sh uninstall DESTDIR PREFIX SRC:DEST:MODE...
#
# DEST is relative to PREFIX. install copies every SRC to DESTDIR/PREFIX/DEST and writes a
# manifest, PREFIX/share/phitrace/installed, of every file it wrote and every directory it
# had to create (a reinstall keeps the directories an earlier install created and removes
# the files an earlier install wrote that are no longer installed). uninstall removes
# exactly those files, then those directories when they are empty, deepest first: what was
# there before the install stays. Without a manifest (installed by an older Makefile) it
# removes the files of the list given and the package's own directories.
set -euo pipefail

action=$1 destdir=$2 prefix=${3%/}
shift 3
manifest_rel=$prefix/share/phitrace/installed
manifest=$destdir$manifest_rel

say() { printf '%s %s\n' "$1" "$2"; }

# every directory from $1 upwards that does not exist under DESTDIR (absolute, no DESTDIR)
missing_dirs() {
    local p=$1
    while [ "$p" != / ] && [ "$p" != . ] && [ ! -d "$destdir$p" ]; do
        echo "$p"
        p=$(dirname "$p")
    done
}

do_install() {
    local old_files='' old_dirs='' e src rest dst mode created=() files=()
    if [ -f "$manifest" ]; then
        old_files=$(sed -n 's/^f //p' "$manifest")
        old_dirs=$(sed -n 's/^d //p' "$manifest")
    fi
    for e in "$@"; do
        src=${e%%:*} rest=${e#*:}
        dst=$prefix/${rest%%:*} mode=${rest#*:}
        while IFS= read -r d; do
            [ -n "$d" ] && created+=("$d")
        done < <(missing_dirs "$(dirname "$dst")")
        say INSTALL "$dst"
        install -D -m "$mode" "$src" "$destdir$dst"
        files+=("$dst")
    done
    # files an earlier install wrote that this one does not
    local f
    while IFS= read -r f; do
        [ -z "$f" ] || [ "$f" = "$manifest_rel" ] && continue
        if ! printf '%s\n' "${files[@]}" | grep -qxF -- "$f"; then
            say RM "$f"
            rm -f -- "$destdir$f"
        fi
    done <<< "$old_files"
    {
        printf 'f %s\n' "${files[@]}" "$manifest_rel"
        { printf '%s\n' "${created[@]}"; [ -z "$old_dirs" ] || printf '%s\n' "$old_dirs"; } |
            grep -v '^$' | sort -u | sed 's/^/d /'
    } > "$manifest.tmp"
    chmod 0644 "$manifest.tmp"
    mv -f "$manifest.tmp" "$manifest"
}

do_uninstall() {
    local f d
    if [ -f "$manifest" ]; then
        while IFS= read -r f; do
            say RM "$f"
            rm -f -- "$destdir$f"
        done < <(sed -n 's/^f //p' "$manifest" | grep -vxF -- "$manifest_rel")
        # deepest first
        local dirs
        dirs=$(sed -n 's/^d //p' "$manifest" | awk '{ print length($0) "\t" $0 }' |
               sort -rn | cut -f2-)
        rm -f -- "$manifest"
        while IFS= read -r d; do
            [ -n "$d" ] && rmdir --ignore-fail-on-non-empty -- "$destdir$d"
        done <<< "$dirs"
        return 0
    fi
    echo "uninstall: no manifest $manifest; removing the files of this version" >&2
    local e rest
    for e in "$@"; do
        rest=${e#*:}
        f=$prefix/${rest%%:*}
        if [ -e "$destdir$f" ]; then
            say RM "$f"
            rm -f -- "$destdir$f"
        fi
    done
    for d in share/phitrace/signatures share/phitrace/schema share/phitrace share/doc/phitrace; do
        [ -d "$destdir$prefix/$d" ] && rmdir --ignore-fail-on-non-empty -- "$destdir$prefix/$d"
    done
    return 0
}

case $action in
install) do_install "$@" ;;
uninstall) do_uninstall "$@" ;;
*)
    echo "usage: $0 install|uninstall DESTDIR PREFIX SRC:DEST:MODE..." >&2
    exit 1
    ;;
esac
