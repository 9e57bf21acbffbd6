/*
 * exfil_tools.yar - staging and exfiltration tooling seen in healthcare intrusions: cloud
 * sync configurations (rclone, MEGAsync/megacmd), WinSCP sessions, upload one-liners
 * (curl, PowerShell, BITS), scheduled tasks that run them, and password-protected archives
 * built before the upload.
 * References: CISA #StopRansomware advisories (AA23-158A, AA24-060B) list rclone, MEGA,
 * WinSCP and 7-Zip among the tools used to stage and send data.
 */

rule Rclone_Config
{
    meta:
        description = "rclone configuration with a remote (cloud upload target)"
        category = "exfiltration tool"
        severity = "high"
        reference = "https://rclone.org/docs/#config-config-file; CISA AA23-158A"
    strings:
        $type = /\ntype = (s3|drive|mega|dropbox|onedrive|b2|sftp|ftp|box|pcloud|swift|azureblob|webdav)\b/
        $key = /\n(access_key_id|pass|token|client_secret|user) = /
    condition:
        filesize < 1MB and $type and $key
}

rule MEGA_Sync_Tooling
{
    meta:
        description = "MEGAsync or MEGAcmd artefacts (upload to mega.nz)"
        category = "exfiltration tool"
        severity = "high"
        reference = "CISA AA24-060B"
    strings:
        $a = "megacmd" nocase
        $b = "mega-put" ascii
        $c = "MEGAsync" ascii wide
        $d = "g.api.mega.co.nz" ascii wide
        $e = "mega-login" ascii
    condition:
        2 of them
}

rule WinSCP_Session
{
    meta:
        description = "WinSCP stored session or script (HostName and UserName, put/synchronize)"
        category = "exfiltration tool"
        severity = "medium"
        reference = "https://winscp.net/eng/docs/ui_pref_storage"
    strings:
        $sess = "[Sessions\\" ascii wide
        $host = "HostName=" ascii wide
        $put = /(^|\n)\s*(put|synchronize remote) / nocase
        $open = /(^|\n)\s*open (sftp|ftp|scp|ftps):\/\// nocase
    condition:
        ($sess and $host) or ($open and $put)
}

rule Curl_Upload_OneLiner
{
    meta:
        description = "curl command that uploads a local file (-T, --upload-file, -F field=@file, --data-binary @file)"
        category = "exfiltration tool"
        severity = "medium"
        reference = "https://curl.se/docs/manpage.html"
    strings:
        $a = /curl(\.exe)?[^\n]{0,200} (-T|--upload-file) [^\n]{1,200}/
        $b = /curl(\.exe)?[^\n]{0,200} -F ["']?[A-Za-z0-9_]{1,40}=@[^\n]{1,200}/
        $c = /curl(\.exe)?[^\n]{0,200} --data-binary ["']?@[^\n]{1,200}/
    condition:
        any of them
}

rule PowerShell_Upload_OneLiner
{
    meta:
        description = "PowerShell Invoke-WebRequest/Invoke-RestMethod sending a file (-InFile, or -Method Put/Post with file content)"
        category = "exfiltration tool"
        severity = "medium"
        reference = "https://learn.microsoft.com/powershell/module/microsoft.powershell.utility/invoke-webrequest"
    strings:
        $iwr = /(Invoke-WebRequest|Invoke-RestMethod|\biwr\b|\birm\b)[^\n]{0,300}-InFile/ nocase
        $put = /(Invoke-WebRequest|Invoke-RestMethod)[^\n]{0,300}-Method\s+(Put|Post)[^\n]{0,300}(Get-Content|ReadAllBytes)/ nocase
        $upload = "UploadFile(" nocase
    condition:
        any of them
}

rule BITS_Upload
{
    meta:
        description = "BITS upload job: bitsadmin /transfer or /create with /upload, or Start-BitsTransfer -TransferType Upload"
        category = "exfiltration tool"
        severity = "medium"
        reference = "https://learn.microsoft.com/windows/win32/bits/bitsadmin-tool; MITRE ATT&CK T1197"
    strings:
        $admin = /bitsadmin(\.exe)?[^\n]{0,200}\/(transfer|create)[^\n]{0,200}\/upload\b/ nocase
        $ps = /Start-BitsTransfer[^\n]{0,300}-TransferType\s+Upload/ nocase
    condition:
        any of them
}

rule Scheduled_Task_Exfil
{
    meta:
        description = "Windows scheduled task (Task Scheduler XML) whose action runs an upload or sync tool (rclone, MEGAcmd, WinSCP, curl, bitsadmin, PowerShell web cmdlets)"
        category = "exfiltration tool"
        severity = "high"
        reference = "https://learn.microsoft.com/windows/win32/taskschd/task-scheduler-schema; MITRE ATT&CK T1053.005"
    strings:
        $task = "<Task " ascii wide
        $ns = "schemas.microsoft.com/windows/2004/02/mit/task" ascii wide
        $cmd = /<Command>[^<]{0,260}(rclone|mega-put|megacmd|winscp|curl|bitsadmin)(\.exe|\.com)?\s*<\/Command>/ nocase ascii wide
        $psargs = /<Arguments>[^<]{0,1000}(Invoke-WebRequest|Invoke-RestMethod|Start-BitsTransfer|UploadFile)[^<]{0,1000}<\/Arguments>/ nocase ascii wide
        $toolargs = /<Arguments>[^<]{0,200}\b(copy|sync|move)\s+[^<]{1,300}\s[A-Za-z0-9_-]{1,40}:[^<]{0,300}<\/Arguments>/
    condition:
        $task and $ns and ($cmd or $psargs or $toolargs)
}

rule Encrypted_Zip
{
    meta:
        description = "zip archive with an encrypted entry (password-protected staging archive)"
        category = "staging"
        severity = "medium"
        reference = "PKWARE APPNOTE 6.3.10 section 4.4.4 (general purpose bit 0)"
    condition:
        uint32(0) == 0x04034B50 and (uint16(6) & 1) == 1
}

rule Encrypted_7z
{
    meta:
        description = "7-Zip archive using AES-256 (password-protected staging archive)"
        category = "staging"
        severity = "medium"
        reference = "7-Zip 7zFormat.txt (coder 06F10701 = 7zAES)"
    strings:
        $aes = { 06 F1 07 01 }
    condition:
        uint32(0) == 0xAFBC7A37 and uint16(4) == 0x1C27 and $aes
}

rule Encrypted_RAR
{
    meta:
        description = "RAR archive with encrypted headers or files (password-protected staging archive)"
        category = "staging"
        severity = "medium"
        reference = "RAR 5.0 archive format (encryption header, type 4)"
    strings:
        $rar5 = { 52 61 72 21 1A 07 01 00 }
        $rar4 = { 52 61 72 21 1A 07 00 }
    condition:
        ($rar5 at 0 and uint8(12) == 4) or ($rar4 at 0 and (uint16(10) & 0x0080) == 0x0080)
}
