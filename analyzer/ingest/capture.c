/*
 * capture.c - reading one packet capture through libpcap (see capture.h).
 */
#include "capture.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

void pt_capture_read(struct pt_source *src, FILE *fp, uint64_t base, uint32_t item,
                     struct pt_decoder *dec, const struct pt_capture_sink *sink,
                     struct pt_capture_result *out)
{
    memset(out, 0, sizeof *out);
    out->linktype = -1;
    struct pt_capture_result *it = out;
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    fp = src != NULL ? pt_source_stream(src) : fp;
    if (fp == NULL) {
        it->status = "error";
        snprintf(it->error, sizeof it->error, "cannot create a stream over the input");
        return;
    }
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (p == NULL) {
        if (src != NULL) {
            pt_source_stream_closed(src);
        }
        fclose(fp);
        it->status = "error";
        snprintf(it->error, sizeof it->error, "libpcap cannot read it: %s", errbuf);
        sink->anomaly(sink->arg, item, 0, PT_ANOM_CAPTURE_UNREADABLE, it->error);
        return;
    }
    if (src != NULL) {
        pt_source_stream_closed(src); /* pcap_close closes fp */
    }
    int dlt = pcap_datalink(p);
    it->linktype = dlt;
    it->linktype_name = pt_linktype_name(dlt);
    if (it->linktype_name == NULL) {
        it->linktype_name = pcap_datalink_val_to_name(dlt);
        it->status = "skipped";
        snprintf(it->error, sizeof it->error, "link type %s (%d) is not decoded by this version",
                 it->linktype_name ? it->linktype_name : "unknown", dlt);
        sink->anomaly(sink->arg, item, 0, PT_ANOM_CAPTURE_UNSUPPORTED_LINKTYPE, it->error);
        pcap_close(p);
        return;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;
    uint64_t num = base, snap_cut = 0, first_cut = 0;
    uint32_t snap_max = 0;
    struct pt_decoded d;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        num++;
        struct pt_frame f = {.item = item, .num = num, .wire_len = h->len,
                             .cap_len = h->caplen, .linktype = dlt, .data = data};
        f.ts_us = (int64_t)h->ts.tv_sec * 1000000 + (int64_t)h->ts.tv_usec / 1000;
        if (h->caplen < h->len) {
            first_cut = snap_cut++ == 0 ? num : first_cut;
            snap_max = h->caplen > snap_max ? h->caplen : snap_max;
        }
        if (h->caplen > h->len) {
            sink->anomaly(sink->arg, item, num, PT_ANOM_CAPTURE_CAPLEN_EXCEEDS_LEN,
                         "captured length larger than the original length");
            f.wire_len = h->caplen;
        }
        if (num == base + 1 || f.ts_us < it->first_ts) {
            it->first_ts = f.ts_us;
        }
        if (num == base + 1 || f.ts_us > it->last_ts) {
            it->last_ts = f.ts_us;
        }
        pt_decode_frame(dec, &f, &d);
        for (unsigned i = 0; i < d.n; i++) {
            sink->view(sink->arg, &f, &d.v[i], (uint8_t)i);
        }
    }
    it->packets = num - base;
    char note[200];
    if (snap_cut > 0) {
        /* One row per item, not per frame: a snap length is a property of the capture. */
        snprintf(note, sizeof note,
                 "%llu frame(s) cut by the capture's snap length (at most %u bytes kept); bytes "
                 "past the cut are missing from the evidence",
                 (unsigned long long)snap_cut, snap_max);
        sink->anomaly(sink->arg, item, first_cut, PT_ANOM_CAPTURE_SNAPLEN, note);
    }
    if (num == base && rc != PCAP_ERROR) {
        sink->anomaly(sink->arg, item, 0, PT_ANOM_CAPTURE_EMPTY, "the capture holds no packet");
    }
    if (rc == PCAP_ERROR) {
        const char *msg = pcap_geterr(p);
        const char *gzwhy = NULL;
        bool gz = src != NULL && pt_source_gzip_error(src, &gzwhy);
        bool trunc = strstr(msg, "truncated") != NULL || gz;
        it->status = trunc ? "truncated" : "damaged";
        snprintf(it->error, sizeof it->error, "reading stopped after frame %llu: %s%s%s",
                 (unsigned long long)num, msg, gz ? "; gzip: " : "", gz ? gzwhy : "");
        sink->anomaly(sink->arg, item, num + 1,
                     trunc ? PT_ANOM_CAPTURE_TRUNCATED : PT_ANOM_CAPTURE_DAMAGED, it->error);
    }
    pcap_close(p);
    pt_decoder_flush(dec, item);
}
