/*
 * dicom_polyglot.yar - DICOM files whose preamble carries an executable (CVE-2019-11687):
 * the file is a valid study and a program at the same time; security tools often skip
 * medical images. Reference: https://cve.report/CVE-2019-11687 and the DICOM PS3.10 §7.5
 * note on the preamble.
 */

rule DICOM_Preamble_PE
{
    meta:
        description = "DICOM Part 10 file whose preamble is a Windows PE header (MZ at 0, PE at e_lfanew)"
        category = "malware"
        severity = "critical"
        reference = "CVE-2019-11687"
    condition:
        filesize > 132 and uint32(128) == 0x4D434944 and uint16(0) == 0x5A4D and
        uint32(0x3C) < filesize - 4 and uint32(uint32(0x3C)) == 0x00004550
}

rule DICOM_Preamble_ELF
{
    meta:
        description = "DICOM Part 10 file whose preamble is an ELF header"
        category = "malware"
        severity = "critical"
        reference = "CVE-2019-11687"
    condition:
        filesize > 132 and uint32(128) == 0x4D434944 and uint32(0) == 0x464C457F
}

rule DICOM_Preamble_Unexpected
{
    meta:
        description = "DICOM Part 10 file whose preamble is neither zero nor a TIFF header (something is hidden in it)"
        category = "anomaly"
        severity = "medium"
        reference = "DICOM PS3.10 section 7.5"
    condition:
        filesize > 132 and uint32(128) == 0x4D434944 and uint32(0) != 0 and
        uint16(0) != 0x4949 and uint16(0) != 0x4D4D and uint16(0) != 0x5A4D and
        uint32(0) != 0x464C457F
}
