/*
 * healthcare_formats.yar - files that carry patient data by their format.
 * phi_class: the kind of PHI the format holds. These rules identify a format, they detect
 * nothing wrong: severity "info" (the reports show them as information). Whether patient data
 * left is decided by the PHI stage reading the file, never by these rules. References: DICOM PS3.10 §7.1, HL7 v2.5.1 ch. 2, FHIR R4,
 * HL7 CDA R2, ASC X12 005010.
 */

rule DICOM_Part10
{
    meta:
        description = "DICOM Part 10 file: 128-byte preamble and DICM (imaging study, patient name and ID in the header)"
        phi_class = "imaging"
        severity = "info"
        reference = "DICOM PS3.10 section 7.1"
    condition:
        filesize > 132 and uint32(128) == 0x4D434944
}

rule DICOM_Dataset_No_Preamble
{
    meta:
        description = "DICOM data set without preamble: starts with an element of group 0002 or 0008 in explicit VR little endian"
        phi_class = "imaging"
        severity = "info"
        reference = "DICOM PS3.5 section 7.1.2"
    condition:
        filesize > 16 and (uint16(0) == 0x0002 or uint16(0) == 0x0008) and uint8(3) == 0 and
        uint8(4) >= 0x41 and uint8(4) <= 0x5A and uint8(5) >= 0x41 and uint8(5) <= 0x5A
}

rule HL7_v2_Message
{
    meta:
        description = "HL7 version 2 message (MSH segment with the standard encoding characters)"
        phi_class = "clinical messages"
        severity = "info"
        reference = "HL7 v2.5.1 chapter 2.5"
    strings:
        $msh = "MSH|^~\\&|"
        $pid = /[\r\n]PID\|/
    condition:
        $msh and $pid
}

rule FHIR_JSON_Patient
{
    meta:
        description = "FHIR JSON resource or bulk export holding Patient resources"
        phi_class = "demographics"
        severity = "info"
        reference = "https://hl7.org/fhir/R4/json.html"
    strings:
        $rt = "\"resourceType\"" ascii
        $patient = /"resourceType"\s*:\s*"Patient"/
    condition:
        $rt and $patient
}

rule FHIR_XML
{
    meta:
        description = "FHIR XML resource (namespace http://hl7.org/fhir)"
        phi_class = "clinical records"
        severity = "info"
        reference = "https://hl7.org/fhir/R4/xml.html"
    strings:
        $ns = "xmlns=\"http://hl7.org/fhir\""
    condition:
        $ns in (0..1024)
}

rule HL7_CDA_Document
{
    meta:
        description = "HL7 CDA / C-CDA clinical document with a recordTarget (the patient)"
        phi_class = "clinical documents"
        severity = "info"
        reference = "HL7 CDA R2, urn:hl7-org:v3"
    strings:
        $doc = "ClinicalDocument"
        $ns = "urn:hl7-org:v3"
        $rt = "recordTarget"
    condition:
        all of them
}

rule X12_Health_Care_Transaction
{
    meta:
        description = "ASC X12 claim, eligibility or remittance (837, 270, 271, 835, 834)"
        phi_class = "claims"
        severity = "info"
        reference = "ASC X12 005010 (ISA, ST)"
    strings:
        $st = /ST\*(837|270|271|835|834)\*/
    condition:
        uint32(0) == 0x2A415349 and $st
}
