/*
 * ransomware.yar - ransom notes: the text an extortion crew leaves on the hosts it
 * encrypted, usually naming a Tor site and threatening to publish stolen data (which is
 * itself evidence that data left).
 */

rule Ransom_Note_Generic
{
    meta:
        description = "ransom note: files encrypted, pay or contact to decrypt, often a .onion site and a data-leak threat"
        category = "ransomware"
        severity = "critical"
        reference = "CISA #StopRansomware guide"
    strings:
        $enc1 = "files have been encrypted" nocase ascii wide
        $enc2 = "files are encrypted" nocase ascii wide
        $enc3 = "network has been encrypted" nocase ascii wide
        $enc4 = "have been locked" nocase ascii wide
        $pay1 = "decrypt" nocase ascii wide
        $pay2 = "bitcoin" nocase ascii wide
        $pay3 = "tor browser" nocase ascii wide
        $onion = /[a-z2-7]{16,56}\.onion/ ascii wide
        $leak1 = "will be published" nocase ascii wide
        $leak2 = "data leak" nocase ascii wide
        $leak3 = "we have downloaded" nocase ascii wide
        $leak4 = "stolen data" nocase ascii wide
    condition:
        filesize < 2MB and any of ($enc*) and (2 of ($pay*, $onion) or any of ($leak*))
}

rule Ransom_Note_Data_Theft
{
    meta:
        description = "extortion note that claims data was downloaded before encryption (double extortion)"
        category = "ransomware"
        severity = "critical"
        reference = "CISA #StopRansomware guide"
    strings:
        $a = "we have downloaded" nocase ascii wide
        $b = "your data will be" nocase ascii wide
        $c = "patient" nocase ascii wide
        $d = "medical records" nocase ascii wide
        $e = /[a-z2-7]{16,56}\.onion/ ascii wide
    condition:
        filesize < 2MB and ($a or $b) and ($e or $c or $d)
}
