/*
 * heur_hours.c - exfiltration-shaped findings outside working hours.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/grow.h"
#include "../store/q_verdict.h"
#include "verdict_int.h"

void pt_heur_after_hours(struct pt_verdict_ctx *x)
{
    struct pt_qv *st = NULL;
    if (pt_qv_open(x->db, PT_QV_HOURS_CANDIDATES, &st) != PT_OK) {
        x->rc = PT_EDB;
        return;
    }
    /* read whole before writing: the findings are read from the table written to (every one
     * of them: a fixed array here once weighed only the first 512 on large logs) */
    struct hrow {
        int64_t id, ts, bytes;
        char src[64], dst[256], heur[32];
    } *rows = NULL;
    size_t n = 0, cap = 0;
    while (pt_qv_step(st)) {
        if (!pt_grow(&rows, &cap, n + 1, sizeof *rows, 256)) {
            x->rc = PT_ENOMEM;
            break;
        }
        rows[n].id = pt_qv_int(st, 0);
        rows[n].ts = pt_qv_int(st, 3);
        rows[n].bytes = pt_qv_int(st, 4);
        snprintf(rows[n].src, sizeof rows[n].src, "%s", pt_qv_text(st, 1));
        snprintf(rows[n].dst, sizeof rows[n].dst, "%s", pt_qv_text(st, 2));
        snprintf(rows[n].heur, sizeof rows[n].heur, "%s", pt_qv_text(st, 5));
        n++;
    }
    pt_qv_free(st);
    for (size_t i = 0; i < n && x->rc == PT_OK; i++) {
        int64_t local = rows[i].ts / 1000000 + (int64_t)x->c.utc_offset_minutes * 60;
        int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
        int hour = (int)((local - days * 86400) / 3600);
        int wday = (int)((days + 3) % 7 + 7) % 7 + 1; /* 1970-01-01 was a Thursday: Mon=1 */
        char wd[2] = {(char)('0' + wday), 0};
        char days_s[16];
        snprintf(days_s, sizeof days_s, "%.0f", x->c.work_days);
        bool workday = strstr(days_s, wd) != NULL;
        if (workday && hour >= x->c.work_start_hour && hour < x->c.work_end_hour) {
            continue;
        }
        char sum[512], ev[96], det[160];
        snprintf(sum, sizeof sum,
                 "outside working hours: %s by %s to %s began at %02d:xx local "
                 "time on day %d of the week",
                 rows[i].heur, rows[i].src, rows[i].dst, hour, wday);
        snprintf(det, sizeof det, "{\"local_hour\":%d,\"weekday\":%d,\"utc_offset_minutes\":%.0f}",
                 hour, wday, x->c.utc_offset_minutes);
        snprintf(ev, sizeof ev, "{\"finding\":[%lld]}", (long long)rows[i].id);
        pt_verdict_finding(x, PT_HEUR_AFTER_HOURS, rows[i].src, rows[i].dst, "", rows[i].ts,
                           rows[i].ts, rows[i].bytes, 0.3, sum, det, ev);
    }
    free(rows);
}
