# Packaging (issue 18, item 5): the man page, the bash and zsh completions, make install and
# make uninstall, the runtime libraries. Run in run_e2e.py's namespace (run, case, Skip, ...).
# The man page and the completions are checked against `phitrace --help`, so a command or an
# option added to the usage text without them fails here.

MAN_PAGE = os.path.join(ROOT, "analyzer", "doc", "phitrace.1")
BASH_COMPLETION = os.path.join(ROOT, "analyzer", "doc", "phitrace.bash-completion")
ZSH_COMPLETION = os.path.join(ROOT, "analyzer", "doc", "_phitrace")


def _help_words():
    """(commands, options of every command, options of analyze) named by `phitrace --help`."""
    text = run("--help", check=0).stdout
    usage = text[text.index("Usage:"):text.index("\n\n", text.index("Usage:"))]
    commands = []
    for line in usage.splitlines():
        m = re.match(r"\s+phitrace ((?:[a-z][a-z-]*)(?: check)?|--[a-z]+)\b", line)
        if m:
            commands.append(m.group(1))
    options = sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])", text)))
    section = text[text.index("analyze options:"):]
    section = section[:section.index("\n\n")]
    pairs = re.findall(r"^\s+(?:(-[a-zA-Z]), )?(--[a-z][a-z0-9-]*)", section, re.M)
    analyze = sorted(set(o for pair in pairs for o in pair if o))
    assert len(commands) >= 6 and "analyze" in commands and "rules check" in commands, commands
    assert len(analyze) >= 15 and "--home-net" in analyze and "-o" in analyze, analyze
    return commands, options, analyze


def _clean_env():
    """The environment for a make run from a test: not a sub-make of `make test`."""
    return {k: v for k, v in os.environ.items()
            if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}


@test
def man_page_has_no_warnings_and_every_command_and_option():
    if shutil.which("man") is None:
        raise Skip("man (man-db) is not installed (make test-deps)")
    env = dict(_clean_env(), LC_ALL="C.UTF-8", MANWIDTH="200")
    p = subprocess.run(["man", "--warnings", "-l", MAN_PAGE], capture_output=True, text=True,
                       env=env, timeout=60)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    page = p.stdout
    assert "PHITRACE(1)" in page and "EXIT STATUS" in page
    version = run("--version", check=0).stdout.split()[1]
    assert "phitrace " + version in page, "the man page's .TH names another version than " + version
    commands, options, _ = _help_words()
    missing = [c for c in commands if not re.search(r"phitrace %s\b" % re.escape(c), page)]
    missing += [o for o in options if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), page)]
    assert not missing, "phitrace --help names these, %s does not: %s" % (MAN_PAGE, missing)


def _bash_complete(*words):
    """What the bash completion offers for `phitrace WORDS...` (the last word being typed)."""
    script = ('source "$1"; shift; complete -p phitrace >/dev/null || exit 9; '
              'COMP_WORDS=(phitrace "$@"); COMP_CWORD=$#; _phitrace; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", BASH_COMPLETION]
                       + list(words), capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert p.returncode == 0 and p.stderr == "", (words, p.returncode, p.stderr)
    return sorted(w for w in p.stdout.split("\n") if w)


@test
def bash_completion_offers_commands_and_analyze_options():
    commands, _, analyze = _help_words()
    assert _bash_complete("an") == ["analyze"]
    assert _bash_complete("") == sorted(set(c.split()[0] for c in commands))
    offered = _bash_complete("analyze", "-")
    assert offered == sorted(set(analyze) | {"--help"}), (offered, analyze)
    assert _bash_complete("analyze", "--ho") == ["--home-net"]
    assert _bash_complete("analyze", "--fail-on", "") == ["confirmed", "likely", "possible"]
    assert _bash_complete("analyze", "--fail-on", "=", "l") == ["likely"]
    assert _bash_complete("analyze", "-o", "sampl") == ["samples"]  # directories
    assert _bash_complete("analyze", "samples/gro") == ["samples/ground-truth.json"]
    assert _bash_complete("rules", "") == ["check"]
    assert _bash_complete("report", "c", "--format", "html,j") == ["html,json"]
    c = case("completion")
    run("analyze", "-q", "--no-phi", SAMPLES, "-o", c, check=0)
    shas = [r[0] for r in db(c).execute("SELECT DISTINCT sha256 FROM object")]
    if shutil.which("sqlite3"):
        assert shas and _bash_complete("export-object", c, shas[0][:12]) == \
            sorted(s for s in shas if s.startswith(shas[0][:12]))


_ZSH_CAPTURE = r'''
# capture.zsh DIR OUT LINE: the matches zsh offers for LINE<TAB> (completion functions of
# DIR), one a line in OUT; compadd is wrapped to write them instead of showing them
zmodload zsh/zpty
: > $2
zpty z zsh -f -i
zpty -w z "PROMPT= RPROMPT= ; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D; OUTF=$2"
zpty -w z 'compadd () {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  typeset -a __hits; builtin compadd -A __hits "$@"
  (( $#__hits )) && print -r -l -- $__hits >> $OUTF
  builtin compadd -Q -U ""
}'
zpty -n -w z "$3"$'\t'
# until the matches are written and stay the same for 0.3 s (at most 10 s)
n=-1; same=0
for i in {1..100}; do
  sleep 0.1; m=$(wc -c < $2)
  if (( m > 0 && m == n )); then (( ++same >= 3 )) && break; else same=0; fi; n=$m
done
zpty -n -w z $'\C-u''print DONE > $OUTF.done'$'\n'
for i in {1..100}; do [[ -e $2.done ]] && break; sleep 0.1; done
zpty -d z
[[ -e $2.done ]] && rm -f $2.done
'''


@test
def zsh_completion_offers_commands_and_analyze_options():
    if shutil.which("zsh") is None:
        raise Skip("zsh is not installed (make test-deps)")
    p = subprocess.run(["zsh", "-n", ZSH_COMPLETION], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    d = os.path.join(TMP, "zsh")
    os.makedirs(d, exist_ok=True)
    shutil.copy(ZSH_COMPLETION, d)
    script = os.path.join(TMP, "capture.zsh")
    with open(script, "w") as f:
        f.write(_ZSH_CAPTURE)
    out = os.path.join(TMP, "zsh.out")

    def complete(line):
        subprocess.run(["zsh", "-f", script, d, out, line], check=True, timeout=60, cwd=ROOT)
        with open(out) as f:
            return sorted(set(w for w in f.read().split("\n") if w))
    commands, _, analyze = _help_words()
    assert complete("phitrace an") == ["analyze"]
    assert complete("phitrace ") == sorted(set(c.split()[0] for c in commands
                                               if not c.startswith("-")))
    long_opts = sorted(o for o in set(analyze) | {"--help"} if o.startswith("--"))
    assert complete("phitrace analyze --") == long_opts, long_opts
    assert complete("phitrace analyze --fail-on ") == ["confirmed", "likely", "possible"]
    assert complete("phitrace rules ") == ["check"]


def _make(*args):
    p = subprocess.run(["make", "--no-print-directory"] + list(args), capture_output=True,
                       text=True, cwd=ROOT, env=_clean_env(), timeout=600)
    assert p.returncode == 0, "make %s: %s%s" % (" ".join(args), p.stdout[-2000:], p.stderr[-2000:])
    return p.stdout


@test
def make_install_and_uninstall_leave_nothing_behind():
    if not os.access(os.path.join(ROOT, "phitrace"), os.X_OK):
        raise Skip("./phitrace is not built (make)")
    dest = os.path.join(TMP, "destdir")
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    # -o phitrace: install the binary that is there, without rebuilding it
    _make("-o", "phitrace", "install", "DESTDIR=" + dest, "PREFIX=/usr")
    usr = os.path.join(dest, "usr")
    want = {"bin/phitrace": 0o755, "bin/phitrace-evtx": 0o755,
            "share/man/man1/phitrace.1": 0o644,
            "share/bash-completion/completions/phitrace": 0o644,
            "share/zsh/vendor-completions/_phitrace": 0o644,
            "share/doc/phitrace/README.md": 0o644, "share/phitrace/installed": 0o644}
    for name in os.listdir(os.path.join(ROOT, "signatures")):
        want["share/phitrace/signatures/" + name] = 0o644
    schema_dir = os.path.join(ROOT, "reports", "schema")
    for name in (os.listdir(schema_dir) if os.path.isdir(schema_dir) else []):
        if name.endswith(".json"):
            want["share/phitrace/schema/" + name] = 0o644
    got = {}
    for d, _, files in os.walk(usr):
        for f in files:
            p = os.path.join(d, f)
            got[os.path.relpath(p, usr)] = os.stat(p).st_mode & 0o777
    assert got == want, (sorted(set(got) ^ set(want)), got)
    with open(os.path.join(usr, "share/man/man1/phitrace.1"), "rb") as a, \
            open(MAN_PAGE, "rb") as b:
        assert a.read() == b.read()
    # the installed binary finds the installed signatures (../share/phitrace beside bin/)
    c = case("installed")
    p = subprocess.run([os.path.join(usr, "bin", "phitrace"), "analyze", "-q", "--home-net",
                        "10.1.0.0/16", SAMPLES, "-o", c], capture_output=True, text=True,
                       env=dict(ENV, PHITRACE_SIGNATURES=""), timeout=600)
    assert p.returncode == 0, p.stderr
    sig = db(c).execute("SELECT value FROM run_manifest WHERE key = 'signatures_dir'").fetchone()[0]
    assert os.path.realpath(sig) == os.path.join(os.path.realpath(usr), "share/phitrace/signatures")
    # installing again changes nothing; uninstalling removes every file and every directory
    # the install created, and nothing else
    _make("-o", "phitrace", "install", "DESTDIR=" + dest, "PREFIX=/usr")
    _make("uninstall", "DESTDIR=" + dest, "PREFIX=/usr")
    assert os.listdir(dest) == [], [os.path.join(d, f) for d, ds, fs in os.walk(dest)
                                    for f in ds + fs]
    os.makedirs(os.path.join(dest, "usr", "bin"))
    with open(os.path.join(dest, "usr", "bin", "other"), "w") as f:
        f.write("not ours\n")
    _make("-o", "phitrace", "install", "DESTDIR=" + dest, "PREFIX=/usr")
    _make("uninstall", "DESTDIR=" + dest, "PREFIX=/usr")
    left = sorted(os.path.relpath(os.path.join(d, f), dest) for d, ds, fs in os.walk(dest)
                  for f in ds + fs)
    assert left == ["usr", "usr/bin", "usr/bin/other"], left


@test
def install_script_removes_what_an_earlier_install_put_and_this_one_does_not():
    dest = os.path.join(TMP, "destdir2")
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    a, b = os.path.join(TMP, "inst_a"), os.path.join(TMP, "inst_b")
    for p in (a, b):
        with open(p, "w") as f:
            f.write(p)
    sh = os.path.join(ROOT, "tools", "install.sh")
    subprocess.run(["bash", sh, "install", dest, "/opt/pt", a + ":share/phitrace/a:0644",
                    b + ":share/phitrace/x/b:0600"], check=True, capture_output=True)
    assert os.stat(os.path.join(dest, "opt/pt/share/phitrace/x/b")).st_mode & 0o777 == 0o600
    subprocess.run(["bash", sh, "install", dest, "/opt/pt", a + ":share/phitrace/a:0644"],
                   check=True, capture_output=True)
    assert not os.path.exists(os.path.join(dest, "opt/pt/share/phitrace/x/b"))
    subprocess.run(["bash", sh, "uninstall", dest, "/opt/pt"], check=True, capture_output=True)
    assert os.listdir(dest) == []


def _makefile_list(name):
    with open(os.path.join(ROOT, "Makefile")) as f:
        text = f.read()
    m = re.search(r"^%s :=((?:.*\\\n)*.*)$" % name, text, re.M)
    assert m, name
    return m.group(1).replace("\\\n", " ").split()


@test
def runtime_libraries_are_the_listed_packages():
    """Every library ./phitrace is linked against comes from a package of DEB_RUNTIME_PKGS
    (what `make deps` installs for running) or libc6, and README's Install section names it."""
    exe = os.path.join(ROOT, "phitrace")
    if not os.access(exe, os.X_OK):
        raise Skip("./phitrace is not built (make)")
    if shutil.which("dpkg-query") is None or shutil.which("objdump") is None:
        raise Skip("dpkg-query or objdump is absent (not a Debian machine with binutils)")
    needed = re.findall(r"NEEDED\s+(\S+)", subprocess.run(["objdump", "-p", exe],
                                                          capture_output=True, text=True).stdout)
    ldd = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.run(
        ["ldd", exe], capture_output=True, text=True).stdout, re.M))
    runtime = set(_makefile_list("DEB_RUNTIME_PKGS"))
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    install = readme[readme.index("\n## Install"):]
    install = install[:install.index("\n## ", 5)]
    bad = []
    for lib in needed:
        path = ldd.get(lib)
        assert path and os.path.exists(path), (lib, path)
        pkgs = set()
        for candidate in (path, os.path.realpath(path), "/usr" + os.path.realpath(path)):
            p = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
            if p.returncode == 0:
                pkgs |= set(x.split(":")[0].strip() for x in p.stdout.split(": ")[0].split(","))
        assert pkgs, lib + ": no package owns " + path
        if pkgs & {"libc6"}:
            continue
        if not pkgs & runtime:
            bad.append("%s (%s) not in DEB_RUNTIME_PKGS" % (lib, ",".join(sorted(pkgs))))
        elif not any(p in install for p in pkgs):
            bad.append("%s (%s) not in README's Install section" % (lib, ",".join(sorted(pkgs))))
    assert len(needed) >= 8 and not bad, bad


@test
def build_prints_one_short_line_per_file():
    """`CC analyzer/x.c` without V=1, the command with it (the object is rebuilt in place)."""
    obj = "build/rel/analyzer/core/status.o"
    if not os.path.exists(os.path.join(ROOT, obj)):
        raise Skip(obj + " is not built (make)")
    out = _make("-B", obj)
    assert out.splitlines() == ["CC analyzer/core/status.c"], out
    out = _make("-B", "V=1", obj)
    assert "CC analyzer/core/status.c" not in out and " -c analyzer/core/status.c -o " + obj in out
