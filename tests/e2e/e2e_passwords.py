# e2e_passwords.py - encrypted archives opened with the intruder's own passwords (issue 15
# item 5): candidates harvested from a PowerShell history, tried on a header-encrypted 7z (the
# 7z program) and on ZipCrypto and AES zips (libarchive); the source is recorded, never the
# password; an archive whose password is nowhere stays closed with its limitation.
# Run by run_e2e.py in its namespace (@test, run(), case(), db(), Skip, ENV, TMP).
import hashlib
import os
import shutil
import subprocess

_PW_7Z = "S3cret!"
_PW_ZIP = "Zip Pass 9"
_PW_NOWHERE = "NowhereToBeFound42"


def _pw_patients():
    """30 distinct patients, with e2e_archive.py's generator (one namespace)."""
    return _patients_csv(n=30, seed=23)  # noqa: F821


def _pw_7z_program():
    for name in ("7z", "7zz", "7za"):
        p = shutil.which(name)
        if p:
            return p
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "p7zip-full"], capture_output=True,
                       timeout=600)
        return shutil.which("7z")
    return None


def _pw_make(sz, out, member_dir, *args):
    p = subprocess.run([sz, "a", "-y", "-bd"] + list(args) + [out, "."], cwd=member_dir,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr


def _pw_case():
    """The evidence directory: history, staged 7z (AES, headers encrypted), ZipCrypto and
    AES zips of the same 30 patients, and a 7z whose password appears nowhere."""
    sz = _pw_7z_program()
    if sz is None:
        raise Skip("the 7z program is not installed (apt-get install p7zip-full or 7zip)")
    d = os.path.join(TMP, "pw-evidence")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    m = os.path.join(TMP, "pw-members")
    shutil.rmtree(m, ignore_errors=True)
    os.makedirs(m)
    csv = _pw_patients()
    with open(os.path.join(m, "patients.csv"), "wb") as f:
        f.write(csv)
    hist = ("cd C:\\Users\\svc_backup\r\n"
            "7z a -p%s -mhe=on staged.7z C:\\export\r\n"
            "zip -P \"%s\" -r export.zip C:\\export\r\n"
            "Remove-Item C:\\export -Recurse\r\n") % (_PW_7Z, _PW_ZIP)
    with open(os.path.join(d, "ConsoleHost_history.txt"), "w", newline="") as f:
        f.write(hist)
    _pw_make(sz, os.path.join(d, "staged.7z"), m, "-t7z", "-p" + _PW_7Z, "-mhe=on")
    _pw_make(sz, os.path.join(d, "export.zip"), m, "-tzip", "-p" + _PW_ZIP, "-mem=ZipCrypto")
    _pw_make(sz, os.path.join(d, "export-aes.zip"), m, "-tzip", "-p" + _PW_ZIP, "-mem=AES256")
    other = os.path.join(TMP, "pw-other")
    shutil.rmtree(other, ignore_errors=True)
    os.makedirs(other)
    with open(os.path.join(other, "notes.txt"), "w") as f:
        f.write("nothing here\n")
    _pw_make(sz, os.path.join(d, "closed.7z"), other, "-t7z", "-p" + _PW_NOWHERE, "-mhe=on")
    # a damaged 7z that was never encrypted gives no member either: not this phase's business
    plain = os.path.join(TMP, "pw-plain.7z")
    if os.path.exists(plain):
        os.remove(plain)
    _pw_make(sz, plain, other, "-t7z")
    with open(plain, "rb") as f, open(os.path.join(d, "damaged.7z"), "wb") as g:
        g.write(f.read()[:40])
    return d, hashlib.sha256(csv).hexdigest()


def _pw_sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _pw_no_password_text(c):
    for name in ["evidence.db", "report.json", "report.html", "report.txt", "summary.txt"]:
        p = os.path.join(c, name)
        if not os.path.exists(p):
            continue
        with open(p, "rb") as f:
            data = f.read()
        for pw in (_PW_7Z, _PW_ZIP, _PW_NOWHERE):
            assert pw.encode() not in data, (pw, name)


@test
def archive_passwords_from_powershell_history_open_staged_archives():
    d, csv_sha = _pw_case()
    c = case("pw-open")
    run("analyze", "-q", d, "-o", c, check=0)
    con = db(c)
    rows = {os.path.basename(r[0]): r[1:] for r in con.execute(
        "SELECT archive_name, opened, method, source_path, line, form, source_sha256, "
        "archive_size, note FROM archive_password")}
    hist = os.path.join(d, "ConsoleHost_history.txt")
    hist_sha = _pw_sha(hist)
    assert set(rows) == {"staged.7z", "export.zip", "export-aes.zip", "closed.7z"}, rows
    assert rows["staged.7z"][:6] == (1, "7z", os.path.realpath(hist), 2, "7z -p", hist_sha) or \
        rows["staged.7z"][:6] == (1, "7z", hist, 2, "7z -p", hist_sha), rows["staged.7z"]
    for z in ("export.zip", "export-aes.zip"):
        assert rows[z][0] == 1 and rows[z][3] == 3 and rows[z][4] == "zip -P", (z, rows[z])
        assert rows[z][1] in ("libarchive", "7z"), rows[z]
    assert rows["export.zip"][1] == "libarchive", rows["export.zip"]
    assert rows["closed.7z"][0] == 0 and rows["closed.7z"][2] is None, rows["closed.7z"]
    # the members are objects, children of their archives, with the CSV's bytes
    for a in ("staged.7z", "export.zip", "export-aes.zip"):
        sha = _pw_sha(os.path.join(d, a))
        kids = con.execute("SELECT sha256, name, encoding FROM object WHERE parent_sha256 = ? "
                           "AND encrypted = 0", (sha,)).fetchall()
        assert (csv_sha, "patients.csv") in [(k[0], k[1]) for k in kids], (a, kids)
        assert all(k[2].endswith(",decrypted") for k in kids if k[0] == csv_sha), kids
    est = con.execute("SELECT estimate FROM individuals WHERE scope = 'all'").fetchone()[0]
    assert est == 30, est
    lim = [r[0] for r in con.execute("SELECT detail FROM limitation WHERE kind = "
                                     "'encrypted_archive_closed'")]
    size = os.path.getsize(os.path.join(d, "closed.7z"))
    assert len(lim) == 1 and "closed.7z" in lim[0] and ("(%d bytes)" % size) in lim[0], lim
    # the opened zips' encrypted members are no longer a limitation
    assert con.execute("SELECT count(*) FROM limitation WHERE kind = "
                       "'encrypted_archive_members'").fetchone()[0] == 0
    con.close()
    with open(os.path.join(c, "report.txt"), encoding="utf-8") as f:
        txt = f.read()
    assert "closed.7z" in txt
    assert "ConsoleHost_history.txt, line 2 (7z -p)" in txt, txt
    _pw_no_password_text(c)


@test
def archive_passwords_without_7z_program_is_a_limitation():
    d, _ = _pw_case()
    c = case("pw-no7z")
    ENV["PHITRACE_7Z"] = "none"
    try:
        run("analyze", "-q", d, "-o", c, check=0)
    finally:
        ENV.pop("PHITRACE_7Z", None)
    con = db(c)
    rows = {os.path.basename(r[0]): r[1:] for r in con.execute(
        "SELECT archive_name, opened, note FROM archive_password")}
    assert rows["export.zip"][0] == 1, rows
    assert rows["staged.7z"][0] == 0 and "7z program is not installed" in rows["staged.7z"][1]
    lim = [r[0] for r in con.execute("SELECT detail FROM limitation WHERE kind = "
                                     "'encrypted_archive_closed'")]
    assert any("staged.7z" in x and "not installed" in x for x in lim), lim
    con.close()
    _pw_no_password_text(c)


@test
def archive_passwords_from_a_wordlist():
    d, _ = _pw_case()
    os.remove(os.path.join(d, "ConsoleHost_history.txt"))
    wl = os.path.join(TMP, "pw-wordlist.txt")
    with open(wl, "w") as f:
        f.write("password\nletmein\n%s\n" % _PW_NOWHERE)
    c = case("pw-wordlist")
    run("analyze", "-q", d, "-o", c, "--passwords", wl, check=0)
    con = db(c)
    rows = {os.path.basename(r[0]): r[1:] for r in con.execute(
        "SELECT archive_name, opened, source_path, line, form FROM archive_password")}
    assert rows["closed.7z"] == (1, wl, 3, "wordlist"), rows["closed.7z"]
    assert rows["staged.7z"][0] == 0, rows
    con.close()
    _pw_no_password_text(c)
